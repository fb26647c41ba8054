package inject

import (
	"regexp"
	"strings"

	"github.com/merlonsec/merlon/internal/fingerprint"
)

// signature is a database error that a broken quote provokes: a syntax
// error, never a type error, since a parameterised query given "1'" for
// an integer fails too, without any injection.
type signature struct {
	db string // a fingerprint datastore name
	re *regexp.Regexp
	// sample is a real message it matches; tests check that fingerprint
	// names the same datastore for it, so remediation fits the proof.
	sample string
}

func sig(db, pattern, sample string) signature {
	return signature{db: db, re: regexp.MustCompile(pattern), sample: sample}
}

var signatures = []signature{
	sig(fingerprint.SQLite, `unrecognized token: "`, `sqlite3.OperationalError: unrecognized token: "'apple''"`),
	sig(fingerprint.SQLite, `near "[^"\n]{1,80}": syntax error`, `near "AND": syntax error`),
	sig(fingerprint.SQLite, `\bSQLITE_ERROR\b|SQLiteException`, `[SQLITE_ERROR] SQL error or missing database`),

	sig(fingerprint.PostgreSQL, `unterminated quoted string at or near "`, `psycopg2.errors.SyntaxError: unterminated quoted string at or near "'apple'"`),
	sig(fingerprint.PostgreSQL, `syntax error at or near "|syntax error at end of input`, `ERROR:  syntax error at or near "AND"`),

	sig(fingerprint.MySQL, `You have an error in your SQL syntax|corresponds to your (?:MySQL|MariaDB) server version`,
		`You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''apple''' at line 1`),
	sig(fingerprint.MySQL, `\bER_PARSE_ERROR\b`, `ER_PARSE_ERROR: You have an error`),

	sig(fingerprint.MSSQL, `Unclosed quotation mark after the character string`, `Unclosed quotation mark after the character string 'apple''.`),
	sig(fingerprint.MSSQL, `Incorrect syntax near`, `Microsoft.Data.SqlClient.SqlException: Incorrect syntax near 'apple'.`),

	sig(fingerprint.Oracle, `\bORA-0(?:0933|0936|0921|1756)\b`, `ORA-01756: quoted string not properly terminated`),
	sig(fingerprint.Oracle, `quoted string not properly terminated`, `java.sql.SQLException: ORA-01756: quoted string not properly terminated`),
}

// dbError returns the datastore and text of the first signature in body,
// read as it is and with JSON's escaped quotes undone (an error passed on
// in a JSON string has its quotes escaped).
func dbError(body string) (db, matched string) {
	if strings.Contains(body, `\"`) {
		body += "\n" + strings.ReplaceAll(body, `\"`, `"`)
	}
	for _, s := range signatures {
		if m := s.re.FindString(body); m != "" {
			return s.db, m
		}
	}
	return "", ""
}
