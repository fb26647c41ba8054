// Package fill turns inventory operations into concrete requests, and reads
// JSON responses back for values later requests can reuse.
//
// Checks need requests that a real API accepts: path parameters that name
// objects that exist, query parameters the server requires, and bodies that
// pass validation. Request builds those from what the spec (or discovery)
// says, preferring values harvested from earlier responses over invented ones.
package fill
