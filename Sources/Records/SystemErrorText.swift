import Foundation

/// The text of a file system error for a one-line message.
public enum SystemErrorText {
    /// An error's reason without Foundation's wrapping (`Error Domain=NSCocoaErrorDomain …`): the
    /// POSIX error's text when there is one ("Is a directory"), Foundation's sentence otherwise;
    /// the project's own errors as they describe themselves.
    public static func reason(_ error: Error) -> String {
        if let cocoa = error as? CocoaError, let underlying = cocoa.underlying {
            let posix = underlying as NSError
            if posix.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(posix.code))) }
        }
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if error is CocoaError || type(of: error) is NSError.Type { return ns.localizedDescription }
        return "\(error)"
    }
}
