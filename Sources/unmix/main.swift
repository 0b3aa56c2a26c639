import Foundation
import UnmixCLI
import UnmixHost

MemoryPolicy.keepFreedMemory()
exit(UnmixCLI.main(Array(CommandLine.arguments.dropFirst())))
