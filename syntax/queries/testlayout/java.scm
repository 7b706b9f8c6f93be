; What Java nodes are to the test layout (kodama.syntax.testlayout): the @package declaration
; and its @package.name (the test class shares it); @import declarations are de-duplicated and
; missing ones go after the last; generated test methods go into the test @class.
(package_declaration) @package

(package_declaration
  [
    (scoped_identifier)
    (identifier)
  ] @package.name)

(import_declaration) @import

(class_declaration) @class
