extension ConnectionStateMachine {
    /// Makes progress on the buffered input: returns a request to dispatch, a rejection or a
    /// `100 Continue` to send, or nil when more input is needed.
    @inline(__always)
    mutating func advance() -> ConnectionAction? {
        while true {
            switch state {
            case .head(let since):
                if let action = parseHead(since: since) { return action }
                guard case .head = state else { continue }  // a body follows the head
                return nil
            case .body(let remaining):
                if input.isEmpty { return nil }
                let take = min(input.count, remaining)
                bodyRequest!.body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input.unread[0..<take]))
                input.consume(take)
                if take == remaining { return dispatch(bodyRequest.take()!) }
                state = .body(remaining: remaining - take)
                return nil
            case .chunked:
                if input.isEmpty { return nil }
                do {
                    input.consume(try decoder.decode(input.unread, into: &bodyRequest!.body))
                } catch {
                    bodyRequest = nil
                    return reject(error)
                }
                if decoder.isComplete { return dispatch(bodyRequest.take()!) }
                return nil
            case .lingering, .closed:
                return nil
            }
        }
    }

    /// Parses the head at the front of the buffer, if it can have changed since the last try.
    /// Returns nil when the head is incomplete, or complete with a body to read (the state says).
    @inline(__always)
    private mutating func parseHead(since: Int64?) -> ConnectionAction? {
        if input.isEmpty { return nil }
        let parsed: HTTPRequestHead?
        if headParsedCount > 0 && !headNeedsParsing() {
            parsed = nil
        } else {
            do {
                parsed = try HTTPRequestHeadParser.parse(input.unread, limits: configuration.limits)
            } catch {
                return reject(error)
            }
        }
        guard let head = parsed else {
            if since == nil { state = .head(since: now) }
            noteIncompleteHead()
            if input.count >= configuration.headBufferLimit {
                return reject(HTTPParseError(.headTooLarge))
            }
            return nil
        }
        resetHeadProgress()
        let bytes = input.copyPrefix(head.length)
        input.consume(head.length)
        switch head.framing {
        case .none, .contentLength(0):
            return dispatch(ConnectionRequest(head: bytes, parsed: head, body: []))
        case .contentLength(let length):
            var body: [UInt8] = []
            body.reserveCapacity(length)
            bodyRequest = ConnectionRequest(head: bytes, parsed: head, body: body)
            state = .body(remaining: length)
        case .chunked:
            bodyRequest = ConnectionRequest(head: bytes, parsed: head, body: [])
            decoder = ChunkedDecoder(limit: configuration.limits.body)
            state = .chunked
        }
        if head.expectContinue && input.isEmpty {
            unflushed = true
            return .sendContinue
        }
        return nil
    }

    /// Whether bytes that arrived since an incomplete head was last parsed can change the
    /// parser's answer: they end a line, or the current line is now longer than its limit
    /// (the request line's or a field line's). Otherwise the answer is the same "not yet" (the
    /// parser decides errors in byte order, so deferring to the line's end gives the same
    /// error), and parsing again is skipped: a client trickling a large head cannot make every
    /// small read cost the whole buffer.
    private func headNeedsParsing() -> Bool {
        let unread = input.unread
        let seen = headParsedCount
        guard unread.count > seen else { return false }
        for index in seen..<unread.count where unread[index] == 10 { return true }  // LF
        let limit = headPastRequestLine ? configuration.limits.fieldSize : configuration.limits.requestLine
        return limit > 0 && unread.count - headLineStart > limit
    }

    /// Records how far an incomplete head was parsed, where its last line starts, and whether
    /// that line is past the request line (a non-empty line has ended before it).
    private mutating func noteIncompleteHead() {
        let unread = input.unread
        for index in headParsedCount..<unread.count where unread[index] == 10 {
            if index + 1 - headLineStart > 2 { headPastRequestLine = true }  // not an empty line
            headLineStart = index + 1
        }
        headParsedCount = unread.count
    }

    /// Forgets the incomplete head's progress (a head was parsed or refused).
    private mutating func resetHeadProgress() {
        headParsedCount = 0
        headLineStart = 0
        headPastRequestLine = false
    }

    @inline(__always)
    private mutating func dispatch(_ request: ConnectionRequest) -> ConnectionAction {
        state = .head(since: nil)
        let persistence = persistence(for: request.parsed)
        if persistence == .close { closeAfterResponse = true }
        unflushed = true
        return .dispatch(request, persistence)
    }

    /// Answers a request the parser refused; the connection closes after the answer.
    private mutating func reject(_ error: HTTPParseError) -> ConnectionAction {
        state = .head(since: nil)
        resetHeadProgress()
        closeAfterResponse = true
        unflushed = true
        return .reject(error)
    }
}
