public enum KairosVersion {
    public static let current = "0.1.0"
}
