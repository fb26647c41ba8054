package web

import "net/http"

// route is one entry of the route table: a Go 1.22 pattern, its handler,
// and who may call it.
type route struct {
	pattern string
	access  access
	handler http.HandlerFunc
}

// access says what a request needs before its handler runs.
type access int

const (
	// public routes need nothing (sign-in, assets, the API description).
	public access = iota
	// page routes need a session cookie; their POSTs need a CSRF token.
	page
	// api routes need an API token (Authorization: Bearer).
	api
)

// table lists every route the server answers, pages first, then the API.
// Every /api/ entry must be described in openapi.json: a test holds the two
// together.
func (s *Server) table() []route {
	return []route{
		{"GET /{$}", page, s.showHome},
		{"GET /static/{file}", public, s.serveStatic},
		{"GET /metrics", public, s.serveMetrics},

		{"GET /setup", public, s.showSetupPage},
		{"POST /setup", public, s.createFirstUser},
		{"GET /signin", public, s.showSignInPage},
		{"POST /signin", public, s.signIn},
		{"POST /signout", page, s.signOut},

		{"GET /targets", page, s.showTargetListPage},
		{"POST /targets", page, s.createTargetFromForm},
		{"GET /targets/{id}", page, s.showTargetPage},
		{"POST /targets/{id}/settings", page, s.saveTargetSettingsFromForm},
		{"POST /targets/{id}/delete", page, s.deleteTargetFromForm},
		{"POST /targets/{id}/verify", page, s.verifyTargetFromForm},
		{"GET /targets/{id}/deliveries", page, s.showDeliveriesPage},
		{"GET /targets/{id}/findings/{fingerprint}", page, s.showFindingPage},
		{"POST /targets/{id}/findings/{fingerprint}/status", page, s.setFindingStatusFromForm},
		{"GET /scans/new", page, s.showNewScanPage},
		{"POST /scans", page, s.startScanFromForm},
		{"GET /scans/{id}", page, s.showScanPage},
		{"GET /scans/{id}/export/{format}", page, s.exportReport},
		{"GET /tokens", page, s.showTokensPage},
		{"POST /tokens", page, s.createTokenFromForm},
		{"POST /tokens/{id}/delete", page, s.deleteTokenFromForm},
		{"GET /users", page, s.showUsersPage},
		{"POST /users", page, s.createUserFromForm},
		{"POST /users/{id}/delete", page, s.deleteUserFromForm},

		{"GET /api/openapi.json", public, s.serveOpenAPI},
		{"GET /api/targets", api, s.apiListTargets},
		{"POST /api/targets", api, s.apiCreateTarget},
		{"GET /api/targets/{id}", api, s.apiGetTarget},
		{"PUT /api/targets/{id}", api, s.apiUpdateTarget},
		{"DELETE /api/targets/{id}", api, s.apiDeleteTarget},
		{"POST /api/targets/{id}/verify", api, s.apiVerifyTarget},
		{"GET /api/targets/{id}/schedule", api, s.apiGetSchedule},
		{"PUT /api/targets/{id}/schedule", api, s.apiPutSchedule},
		{"GET /api/targets/{id}/webhook", api, s.apiGetWebhook},
		{"PUT /api/targets/{id}/webhook", api, s.apiPutWebhook},
		{"GET /api/targets/{id}/deliveries", api, s.apiListDeliveries},
		{"GET /api/targets/{id}/findings/{fingerprint}", api, s.apiGetFindingStatus},
		{"PUT /api/targets/{id}/findings/{fingerprint}", api, s.apiSetFindingStatus},
		{"GET /api/scans", api, s.apiListScans},
		{"POST /api/scans", api, s.apiCreateScan},
		{"GET /api/scans/{id}", api, s.apiGetScan},
		{"GET /api/scans/{id}/findings", api, s.apiListFindings},
		{"GET /api/scans/{id}/diff", api, s.apiScanDiff},
		{"GET /api/scans/{id}/report", api, s.apiScanReport},
		{"GET /api/tokens", api, s.apiListTokens},
		{"POST /api/tokens", api, s.apiCreateToken},
		{"DELETE /api/tokens/{id}", api, s.apiDeleteToken},
	}
}

// routes builds the mux from the table, putting each handler behind the
// checks its access level needs.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range s.table() {
		var h http.Handler = rt.handler
		switch rt.access {
		case page:
			h = s.requireSession(h)
		case api:
			h = s.requireToken(h)
		}
		mux.Handle(rt.pattern, h)
	}
	mux.HandleFunc("/api/", s.apiNotFound)
	return mux
}
