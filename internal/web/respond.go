package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/merlonsec/merlon/internal/store"
)

// apiError is the body of every API error.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing left to tell it
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

// serverError logs err and answers 500 without details: internal errors
// may name files, queries or hosts a caller has no business seeing.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	if isAPI(r) {
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// fail answers err with the status its kind calls for: a userError or
// store.ErrInvalid is the caller's mistake (400), ErrNotFound is 404,
// ErrConflict 409; anything else is the server's (500).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	var ue *userError
	switch {
	case errors.As(err, &ue):
		status = ue.status
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, store.ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, store.ErrInvalid):
		status = http.StatusBadRequest
	}
	if status == http.StatusInternalServerError {
		s.serverError(w, r, err)
		return
	}
	msg := err.Error()
	if status == http.StatusNotFound {
		msg = "not found"
	}
	if isAPI(r) {
		writeError(w, status, msg)
		return
	}
	s.renderStatus(w, r, status, "error", map[string]any{"Status": status, "Message": msg})
}

// userError is a request the server refuses for a reason the user can fix.
type userError struct {
	status int
	msg    string
	// err, when set, is the store sentinel the refusal amounts to, for
	// callers outside the server that test errors with errors.Is.
	err error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.err }

func badRequest(format string, args ...any) error {
	return &userError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) error {
	return &userError{status: http.StatusForbidden, msg: fmt.Sprintf(format, args...)}
}

// pathID reads a positive integer path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, &userError{status: http.StatusNotFound, msg: "not found"}
	}
	return id, nil
}

// decodeJSON reads a JSON request body of at most 1 MiB into v, refusing
// unknown fields so a typo does not pass silently.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("request body: %v", err)
	}
	return nil
}

func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "no such API route")
}
