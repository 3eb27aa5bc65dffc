import CBLAS
public enum POYOLibrary {
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}
