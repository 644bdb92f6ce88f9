/// Who may see and change what in a device audit, as pure decisions.
enum AuditRules {
    enum SessionState: String, Sendable, CaseIterable {
        /// Teachers and technology staff mark devices and students.
        case open
        /// Nothing changes until technology staff unlock it.
        case locked
        /// Finished for good: read and exported only.
        case closed

        /// How the change log says a session came to this state.
        var verb: String {
            switch self {
            case .open: return "unlocked"
            case .locked: return "locked"
            case .closed: return "closed"
            }
        }
    }

    enum DeviceStatus: String, Sendable, CaseIterable {
        /// The student has the device RT says they have.
        case correct
        /// RT lists it for the student; they do not have it.
        case missing
        /// The student has it but should not (a second device, someone else's), or RT does not list it.
        case extra
    }

    /// Marks can be made only in an open session.
    static func acceptsMarks(_ state: SessionState) -> Bool { state == .open }

    /// What technology staff can do to a session in `state`: lock an open one, unlock a locked
    /// one, close either; a closed one stays closed. Rename and delete are always possible.
    static func transitions(from state: SessionState) -> [SessionState] {
        switch state {
        case .open: return [.locked, .closed]
        case .locked: return [.open, .closed]
        case .closed: return []
        }
    }

    /// Whether the roster's `advisor` names the teacher signed in as `teacher`: the same name
    /// (letter case aside), or an email address whose part before `@` is that name.
    static func advises(advisor: String, teacher: String) -> Bool {
        let advisor = advisor.trimmingSpaces().lowercased()
        let teacher = teacher.lowercased()
        guard !teacher.isEmpty, !advisor.isEmpty else { return false }
        if advisor == teacher { return true }
        guard let at = advisor.firstIndex(of: "@") else { return false }
        return advisor[..<at] == teacher[...]
    }
}
