// Package coverage holds small in-process APIs, each in a vulnerable and
// a clean twin, that the end-to-end tests scan to prove every check
// reports on the first and stays silent on the second. They are plain
// http.Handlers: tests serve them with httptest on 127.0.0.1.
package coverage
