package proto

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// Close status codes (RFC 6455 section 7.4.1 and the IANA registry).
const (
	CloseNormal             = 1000
	CloseGoingAway          = 1001
	CloseProtocolError      = 1002
	CloseUnsupportedData    = 1003
	CloseNoStatus           = 1005 // never on the wire: a close frame without a status
	CloseAbnormal           = 1006 // never on the wire: the connection dropped
	CloseInvalidPayload     = 1007
	ClosePolicyViolation    = 1008
	CloseMessageTooBig      = 1009
	CloseMandatoryExtension = 1010
	CloseInternalError      = 1011
	CloseServiceRestart     = 1012
	CloseTryAgainLater      = 1013
	CloseBadGateway         = 1014
	CloseTLSHandshake       = 1015 // never on the wire
)

// MaxCloseReason is the longest close reason in bytes: a control frame carries at
// most 125 bytes, two of which are the code.
const MaxCloseReason = MaxControlPayload - 2

// ValidCloseCode reports whether code may appear in a close frame: 1000-1003 and
// 1007-1014 (defined), 3000-4999 (registered and private use). 1004-1006 and 1015
// are reserved for reporting and never sent.
func ValidCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseClosePayload decodes a received close frame's payload. An empty payload is
// reported as CloseNoStatus. A 1-byte payload or a code that may not be sent is a
// 1002 error; a reason that is not UTF-8 is a 1007 error.
func ParseClosePayload(p []byte) (code int, reason string, err error) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, "", nil
	case len(p) == 1:
		return 0, "", protocolError(CloseProtocolError, "close payload of one byte")
	case len(p) > MaxControlPayload:
		return 0, "", protocolError(CloseProtocolError, "close payload longer than 125 bytes")
	}
	code = int(binary.BigEndian.Uint16(p))
	if !ValidCloseCode(code) {
		return 0, "", protocolError(CloseProtocolError, "invalid close code "+strconv.Itoa(code))
	}
	if !utf8.Valid(p[2:]) {
		return 0, "", protocolError(CloseInvalidPayload, "close reason is not valid UTF-8")
	}
	return code, string(p[2:]), nil
}

// CheckClose validates a close code and reason an application wants to send:
// CloseNoStatus (an empty close frame, reason must be empty) or a code valid on the
// wire, and a UTF-8 reason of at most MaxCloseReason bytes.
func CheckClose(code int, reason string) error {
	if code == CloseNoStatus {
		if reason != "" {
			return errCloseArg("a close without status cannot carry a reason")
		}
		return nil
	}
	if !ValidCloseCode(code) {
		return errCloseArg("close code " + strconv.Itoa(code) + " may not be sent")
	}
	if len(reason) > MaxCloseReason {
		return errCloseArg("close reason longer than 123 bytes")
	}
	if !utf8.ValidString(reason) {
		return errCloseArg("close reason is not valid UTF-8")
	}
	return nil
}

// AppendClosePayload appends the payload of a close frame carrying code and reason;
// CloseNoStatus gives an empty payload. The arguments are not validated: see CheckClose.
func AppendClosePayload(dst []byte, code int, reason string) []byte {
	if code == CloseNoStatus {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}
