import PreforkCore

extension Request {
    /// The parts of a `multipart/form-data` body (an HTML form with a file input), or nil when
    /// the body is of another type. The request's body was already bounded by
    /// `limit_request_body`; `limits` bounds the parts.
    public func multipartParts(limits: Multipart.Limits = Multipart.Limits()) -> Result<
        [Multipart.Part], MultipartError
    >? {
        guard let type = header("content-type"), let boundary = Multipart.boundary(contentType: type) else {
            return nil
        }
        do {
            return .success(try Multipart.parse(body, boundary: boundary, limits: limits))
        } catch {
            return .failure(error)
        }
    }
}
