package oml

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in internal/web and to one exit
// status in cmd/oml; nothing else inspects them.
const (
	EINVALID      = "invalid"           // the caller's input is wrong (usage, file format, parameter)
	ENOTFOUND     = "not_found"         // the named thing does not exist
	ECONFLICT     = "conflict"          // the request clashes with the current state
	EUNAUTHORIZED = "unauthorized"      // credentials are missing or wrong
	EFORBIDDEN    = "forbidden"         // credentials are valid but do not grant this
	ETOOLARGE     = "too_large"         // the request asks for more than one call may return
	ETOOMANY      = "too_many_requests" // the caller sent more requests than its rate allows; retry later
	EINTEGRITY    = "integrity"         // stored data fail verification (checksum or signature)
	EUNAVAILABLE  = "unavailable"       // a tool or service the operation needs is missing here (Chromium for a PDF)
	EINTERNAL     = "internal"          // a fault of the software or of the machine
)

// Error is the error type users see. Message and Hint are written for a
// person, Italian first and English after a " / "; Op names the operation
// that failed and Err keeps the cause for logs and errors.Is.
type Error struct {
	Code    string
	Message string
	Hint    string
	Op      string
	Err     error
}

// Error returns the message with its operation and cause, for logs.
func (e *Error) Error() string {
	s := e.Message
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithHint returns e with its hint set, for chaining at the call site.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the first *Error in err's
// chain and a generic message for any other error: internal details are for
// logs, not for users.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "errore interno / internal error"
}

// ErrorHint returns the hint of the first *Error in err's chain, or "".
func ErrorHint(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Hint
	}
	return ""
}
