import Foundation
import UnmixHost

exit(UnmixCLI.main(Array(CommandLine.arguments.dropFirst())))
