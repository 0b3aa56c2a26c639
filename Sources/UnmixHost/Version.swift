/// The version of unmix: the host, its workers and the files they write.
public let unmixVersion = "0.1.0"
