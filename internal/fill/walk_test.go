package fill

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
)

// visit is one call of Walk's callback, with the path copied.
type visit struct {
	Path  string
	Key   string
	Value any
}

func collect(t *testing.T, body string) ([]visit, error) {
	t.Helper()
	var got []visit
	err := Walk([]byte(body), func(path []string, key string, value any) bool {
		got = append(got, visit{strings.Join(path, "."), key, value})
		return true
	})
	return got, err
}

func TestWalk(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []visit
	}{
		{"scalar root", `"x"`, nil},
		{"empty object", `{}`, nil},
		{"flat object", `{"id": 12345678901234567890, "ok": true, "n": null, "s": "v"}`, []visit{
			{"", "id", json.Number("12345678901234567890")},
			{"", "ok", true},
			{"", "n", nil},
			{"", "s", "v"},
		}},
		{"nested", `{"user": {"id": 1, "tags": ["a", {"k": "v"}]}, "z": 0}`, []visit{
			{"", "user", Object{}},
			{"user", "id", json.Number("1")},
			{"user", "tags", Array{}},
			{"user.tags", "0", "a"},
			{"user.tags", "1", Object{}},
			{"user.tags.1", "k", "v"},
			{"", "z", json.Number("0")},
		}},
		{"array root", `[{"id": "a"}, []]`, []visit{
			{"", "0", Object{}},
			{"0", "id", "a"},
			{"", "1", Array{}},
		}},
		{"key that looks like a delimiter", `{"{": "}", "[": ["]"]}`, []visit{
			{"", "{", "}"},
			{"", "[", Array{}},
			{"[", "0", "]"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(t, tt.body)
			if err != nil {
				t.Fatalf("Walk(%s) error = %v", tt.body, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Walk(%s) visited\n%v\nwant\n%v", tt.body, got, tt.want)
			}
		})
	}
}

func TestWalkStops(t *testing.T) {
	var keys []string
	err := Walk([]byte(`{"a": 1, "b": 2, "c": 3}`), func(_ []string, key string, _ any) bool {
		keys = append(keys, key)
		return key != "b"
	})
	if err != nil || !reflect.DeepEqual(keys, []string{"a", "b"}) {
		t.Errorf("Walk stopping at b visited %v, err %v; want [a b], nil", keys, err)
	}
}

func TestWalkErrors(t *testing.T) {
	deep := strings.Repeat(`{"a":`, MaxWalkDepth+1) + "1" + strings.Repeat("}", MaxWalkDepth+1)
	wide := "[" + strings.TrimSuffix(strings.Repeat("0,", MaxWalkNodes+1), ",") + "]"
	tests := []struct {
		name    string
		body    []byte
		want    error // nil: any error
		minSeen int   // callbacks expected before the error
	}{
		{"invalid", []byte(`{"a": 1,`), nil, 0},
		{"trailing garbage", []byte(`{"a": 1} x`), nil, 0},
		{"empty", nil, nil, 0},
		{"too deep", []byte(deep), ErrTooDeep, MaxWalkDepth},
		{"too many nodes", []byte(wide), ErrTooLarge, MaxWalkNodes},
		{"too many bytes", []byte(`"` + strings.Repeat("x", MaxWalkBytes) + `"`), ErrTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := 0
			err := Walk(tt.body, func([]string, string, any) bool { seen++; return true })
			if err == nil {
				t.Fatalf("Walk(%s) error = nil, want an error", tt.name)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Walk(%s) error = %v, want %v", tt.name, err, tt.want)
			}
			if seen != tt.minSeen {
				t.Errorf("Walk(%s) called fn %d times, want %d", tt.name, seen, tt.minSeen)
			}
		})
	}
}

func TestHarvest(t *testing.T) {
	tests := []struct {
		name string
		body string
		want map[string][]string
	}{
		{"collection", `[{"id": 2, "username": "bob", "owner": {"id": 9}}, {"id": 3, "username": "eve"}]`,
			map[string][]string{"id": {"2", "3", "9"}, "username": {"bob", "eve"}}},
		{"wrapped object", `{"data": {"user_id": "u-1", "orgId": 77, "slug": "acme", "name": "Acme", "email": "a@b.c"}}`,
			map[string][]string{"user_id": {"u-1"}, "orgId": {"77"}, "slug": {"acme"}, "name": {"Acme"}}},
		{"shallow first", `{"child": {"id": "deep"}, "id": "top"}`, map[string][]string{"id": {"top", "deep"}}},
		{"skips non-scalars and empties", `{"id": {"x": 1}, "uuid": "", "slug": true, "name": null}`, map[string][]string{}},
		{"not JSON", `<html>id=1</html>`, map[string][]string{}},
		{"OpenAPI document", `{"paths": {"/f": {"get": {"parameters": [{"name": "fruit", "in": "query"}]}}}, "openapi": "3.0.3", "info": {"title": "t"}}`,
			map[string][]string{}},
		{"Swagger document", `{"swagger": "2.0", "definitions": {"U": {"properties": {"id": {"type": "string"}}}}, "x": [{"name": "n"}]}`,
			map[string][]string{}},
		{"openapi deeper down is data", `{"items": [{"openapi": "3", "name": "svc"}]}`, map[string][]string{"name": {"svc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bank := &scan.ValueBank{}
			Harvest(bank, []byte(tt.body))
			for _, key := range []string{"id", "uuid", "username", "slug", "name", "user_id", "orgId", "email", "x"} {
				if got := bank.All(key); !reflect.DeepEqual(got, tt.want[key]) && (len(got) > 0 || len(tt.want[key]) > 0) {
					t.Errorf("Harvest(%s): All(%q) = %v, want %v", tt.body, key, got, tt.want[key])
				}
			}
		})
	}
}

func TestHarvestHostile(t *testing.T) {
	// Shallow IDs survive a body that nests far past the limit after them.
	deep := `{"id": "keep", "x": ` + strings.Repeat(`{"id": "d", "x": `, 5000) + "1" + strings.Repeat("}", 5000) + "}"
	bank := &scan.ValueBank{}
	Harvest(bank, []byte(deep))
	if got, _ := bank.Get("id"); got != "keep" {
		t.Errorf("Harvest(deep) first id = %q, want keep", got)
	}

	// Past the node cap, later values are not read.
	var b strings.Builder
	b.WriteString("[")
	for i := range harvestNodes {
		fmt.Fprintf(&b, `%d,`, i)
	}
	b.WriteString(`{"id": "late"}]`)
	bank = &scan.ValueBank{}
	Harvest(bank, []byte(b.String()))
	if got := bank.All("id"); len(got) != 0 {
		t.Errorf("Harvest(wide) recorded %v past the node cap, want nothing", got)
	}

	Harvest(nil, []byte(`{"id": 1}`)) // a nil bank is ignored, not a panic
}

func TestIsIDLike(t *testing.T) {
	for name, want := range map[string]bool{
		"id": true, "ID": true, "_id": true, "uuid": true, "user_id": true, "userId": true, "orderID": true,
		"account_uuid": true, "Id": true, "idea": false, "valid": false, "name": false, "paid": false, "I": false,
	} {
		if got := IsIDLike(name); got != want {
			t.Errorf("IsIDLike(%q) = %v, want %v", name, got, want)
		}
	}
}
