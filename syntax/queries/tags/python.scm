; Tags. Definitions: @definition.<kind> around the whole node, @name on its name.
; References: @reference.call / .member (x.f()) / .type / .identifier on the name used.
; Imports: @import.module, and @import.name for each name a statement brings in.
(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function
(class_definition
  body: (block (function_definition name: (identifier) @name) @definition.method))
(class_definition
  body: (block (decorated_definition
    definition: (function_definition name: (identifier) @name) @definition.method)))
(module (expression_statement (assignment left: (identifier) @name) @definition.constant))

(call function: (identifier) @reference.call)
(call function: (attribute attribute: (identifier) @reference.member))
(type (identifier) @reference.type)
(type (generic_type (identifier) @reference.type))
(identifier) @reference.identifier

(import_statement name: (dotted_name) @import.module)
(import_statement name: (aliased_import name: (dotted_name) @import.module))
(import_from_statement module_name: (_) @import.module name: (dotted_name) @import.name)
(import_from_statement
  module_name: (_) @import.module
  name: (aliased_import name: (dotted_name) @import.name))
