// Package spec turns an OpenAPI 3.x or Swagger 2.0 document into Merlon's
// inventory: a list of scan.Operation with their parameters, bodies,
// responses and security, plus the document's security schemes.
//
// libopenapi parses the document and tells its version; nothing outside
// this package imports it, so a change of parser touches one package.
// References are resolved here, over the parsed node tree, rather than by
// building libopenapi's full model: Merlon needs only a small part of that
// model, wants every error to name a JSON pointer, and must cut circular
// schemas in a way it controls. It is also cheaper: on a 1,000-operation
// document the whole Parse takes about as long as libopenapi's model
// build alone, before that model's schemas are even walked (see
// BenchmarkParse1000).
//
// A large JSON document is parsed one path item at a time (split.go), so
// that its node tree, about nine times the size of the document, never
// exists whole.
package spec
