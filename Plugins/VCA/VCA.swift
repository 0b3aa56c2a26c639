import UnmixSDK
