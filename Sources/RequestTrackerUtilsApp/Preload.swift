import OpenSSLSupport

/// What the master warms before it forks the workers (`PreforkApplication.preload`): OpenSSL's
/// initialisation, its default provider and the HMAC-SHA-256 and SHA-256 set-up that every
/// worker's CSRF signer runs at boot. Built once in the master, that heap is shared
/// copy-on-write by the workers and the code pages are mapped by all of them, instead of each
/// worker building and touching its own. None of this starts a thread or opens a file; the
/// workers still make their own `HMACKey` (with the real key) in `makeHandler`.
enum Preload {
    static func warmOpenSSL() {
        let key = HMACKey(Array("preload".utf8))
        var mac = [UInt8](repeating: 0, count: 32)
        mac.withUnsafeMutableBufferPointer { output in
            "warm".utf8.withContiguousStorageIfAvailable { message in
                key.sign(UnsafeRawBufferPointer(message), into: output.baseAddress!)
            }
        }
        _ = Digest.sha256("warm".utf8)
    }
}
