package scan

// Category is an OWASP API Security Top 10 (2023) category ID, such as
// "API3:2023". Every check belongs to exactly one.
type Category string

// The OWASP API Security Top 10, 2023 edition.
const (
	API1BOLA                  Category = "API1:2023"
	API2BrokenAuthentication  Category = "API2:2023"
	API3PropertyAuthorization Category = "API3:2023"
	API4ResourceConsumption   Category = "API4:2023"
	API5BFLA                  Category = "API5:2023"
	API6BusinessFlows         Category = "API6:2023"
	API7SSRF                  Category = "API7:2023"
	API8Misconfiguration      Category = "API8:2023"
	API9Inventory             Category = "API9:2023"
	API10UnsafeConsumption    Category = "API10:2023"
)

var categoryNames = map[Category]string{
	API1BOLA:                  "Broken Object Level Authorization",
	API2BrokenAuthentication:  "Broken Authentication",
	API3PropertyAuthorization: "Broken Object Property Level Authorization",
	API4ResourceConsumption:   "Unrestricted Resource Consumption",
	API5BFLA:                  "Broken Function Level Authorization",
	API6BusinessFlows:         "Unrestricted Access to Sensitive Business Flows",
	API7SSRF:                  "Server Side Request Forgery",
	API8Misconfiguration:      "Security Misconfiguration",
	API9Inventory:             "Improper Inventory Management",
	API10UnsafeConsumption:    "Unsafe Consumption of APIs",
}

// Categories lists the ten categories in their official order.
func Categories() []Category {
	return []Category{API1BOLA, API2BrokenAuthentication, API3PropertyAuthorization,
		API4ResourceConsumption, API5BFLA, API6BusinessFlows, API7SSRF,
		API8Misconfiguration, API9Inventory, API10UnsafeConsumption}
}

// Name is the category's official title, or "" for an unknown ID.
func (c Category) Name() string { return categoryNames[c] }

// Valid reports whether c is one of the ten 2023 categories.
func (c Category) Valid() bool { _, ok := categoryNames[c]; return ok }
