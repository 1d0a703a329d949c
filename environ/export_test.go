package environ

// Unescape is the percent-decoding of PATH_INFO and SCRIPT_NAME, for the
// tests of package environ_test.
var Unescape = unescape
