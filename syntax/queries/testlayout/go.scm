; What Go nodes are to the test layout (kodama.syntax.testlayout): the @package clause and its
; @package.name; @import declarations, the @import.list in parentheses and each @import.spec
; (the specs of a test file are de-duplicated by path; missing ones join the last list).
(package_clause) @package

(package_clause (package_identifier) @package.name)

(import_declaration) @import

(import_spec_list) @import.list

(import_spec) @import.spec
