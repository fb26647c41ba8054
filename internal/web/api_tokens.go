package web

import "net/http"

func (s *Server) apiListTokens(w http.ResponseWriter, r *http.Request) {
	toks, err := s.store.ListAPITokens(r.Context(), currentUser(r.Context()).ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	out := make([]tokenJSON, 0, len(toks))
	for _, t := range toks {
		out = append(out, toToken(t))
	}
	writeJSON(w, http.StatusOK, out)
}

// apiCreateToken answers with the new token's secret, the only time it is
// shown.
func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	raw, t, err := s.createToken(r.Context(), currentUser(r.Context()), in.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := toToken(*t)
	out.Token = raw
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) apiDeleteToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.deleteToken(r.Context(), currentUser(r.Context()), id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
