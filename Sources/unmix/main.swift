import UnmixHost
