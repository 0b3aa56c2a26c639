// The data layer is part of the host's interface: commands, tests and benchmarks that import
// UnmixHost see the datasets, axes and readers too.
@_exported import UnmixIO
@_exported import UnmixReport
