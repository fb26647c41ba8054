package text_test

import (
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/report/reporttest"
	"github.com/merlonsec/merlon/internal/report/text"
)

// TestEvidenceIdentity: each request line names the identity that sent it;
// one sent with only the global headers names none.
func TestEvidenceIdentity(t *testing.T) {
	out := render(t, &text.Renderer{}, reporttest.Fixture())
	for _, want := range []string{
		"> GET https://api.shop.test/v1/orders/7  (as alice)\n",
		"> GET https://api.shop.test/v1/orders/7  (as bob)\n",
		"> GET https://api.shop.test/v1/products/%27  (as anonymous)\n",
		"> PATCH https://api.shop.test/v1/users/41\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
