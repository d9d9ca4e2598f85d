import Foundation
import NIOCore

/// Tells the requests of one connection when their client has gone away: the connection's input
/// closed (the server allows half-closure, so a client's close arrives as `inputClosed`, not as
/// the channel's close) or the channel became inactive. Added to every connection's pipeline; a
/// request registers a callback for its lifetime (`onClose`) and removes it when done.
final class ConnectionWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = Any  // passed on untouched

    private let lock = NSLock()
    private var closed = false
    private var callbacks: [UInt64: @Sendable () -> Void] = [:]
    private var nextID: UInt64 = 0

    /// Calls `callback` once the client is gone (at once if it already is); returns a token for
    /// `remove`.
    @discardableResult
    func onClose(_ callback: @escaping @Sendable () -> Void) -> UInt64 {
        lock.lock()
        nextID += 1
        let id = nextID
        if closed {
            lock.unlock()
            callback()
            return id
        }
        callbacks[id] = callback
        lock.unlock()
        return id
    }

    func remove(_ id: UInt64) {
        lock.lock()
        callbacks[id] = nil
        lock.unlock()
    }

    private func clientGone() {
        lock.lock()
        closed = true
        let pending = Array(callbacks.values)
        callbacks.removeAll()
        lock.unlock()
        for callback in pending { callback() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { clientGone() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        clientGone()
        context.fireChannelInactive()
    }
}
