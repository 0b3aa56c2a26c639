// The Swift SDK for unmix plugins.
import CUnmix
