// Package micropub is the Micropub endpoint (W3C Recommendation): it parses requests into
// microformats2 objects, authorises them, runs them through the post service and answers queries.
// The media endpoint (package media) shares its authorisation and its errors.
package micropub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/micropubd/micropubd"
)

// Error codes the Micropub Recommendation names, plus the OAuth ones its clients understand.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeUnauthorized      = "unauthorized"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
	CodeForbidden         = "forbidden"
	CodeNotFound          = "not_found"
	CodeTooLarge          = "request_too_large"
	CodeUnsupportedType   = "unsupported_media_type"
	CodeServerError       = "server_error"
	// CodeInsufficientStorage answers a write the server's disk had no room for (507).
	CodeInsufficientStorage = "insufficient_storage"
)

// NoSpaceDescription says what a 507 means, naming nothing of the server's files.
const NoSpaceDescription = "the server's disk is full, so nothing was saved; reading still works, " +
	"and writing will again as soon as space is freed on the server"

// Error is an answer to a request that failed: an HTTP status, a code and a description for people.
type Error struct {
	Status      int
	Code        string
	Description string
	// Scope is the scope that was missing, for insufficient_scope.
	Scope string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Description) }

func errInvalid(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: fmt.Sprintf(format, args...)}
}

// InvalidRequest is the 400 invalid_request answer, its description written as by fmt.Sprintf.
func InvalidRequest(format string, args ...any) *Error { return errInvalid(format, args...) }

// WriteError answers with err as JSON in the shape of every API error of the server: error
// and error_description. Errors that are not *Error are hidden as 500.
func WriteError(w http.ResponseWriter, err error) { writeError(w, err) }

// WriteJSON answers with v as JSON, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// writeError answers with err as JSON; errors that are not *Error are logged and hidden as 500.
func writeError(w http.ResponseWriter, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, micropubd.ErrNoSpace):
		e = &Error{Status: http.StatusInsufficientStorage, Code: CodeInsufficientStorage, Description: NoSpaceDescription}
	default:
		e = &Error{Status: http.StatusInternalServerError, Code: CodeServerError, Description: "the server failed to handle the request"}
	}
	switch e.Code {
	case CodeInvalidToken:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="invalid_token", error_description=%q`, e.Description))
	case CodeUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer`)
	case CodeInsufficientScope:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer error="insufficient_scope", scope=%q`, e.Scope))
	}
	body := map[string]string{"error": e.Code, "error_description": e.Description}
	if e.Scope != "" {
		body["scope"] = e.Scope
	}
	writeJSON(w, e.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := encodeJSON(v)
	if err != nil {
		// Only a value JSON cannot hold (a channel, a cycle): a server bug, said so.
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error","error_description":"the answer could not be encoded"}`+"\n")
	}
	writeJSONBytes(w, status, b)
}

// encodeJSON encodes v as the answers are written: HTML characters as they are.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode the answer: %w", err)
	}
	return buf.Bytes(), nil
}

// writeJSONBytes writes JSON encoded by encodeJSON.
func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
