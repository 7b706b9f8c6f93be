; Tags. Definitions: @definition.<kind> around the whole node, @name on its name.
; References: @reference.call / .member (x.f()) / .type / .identifier on the name used.
; Imports: @import.module, and @import.name for each name a statement brings in.
(function_declaration name: (identifier) @name) @definition.function
(method_declaration name: (field_identifier) @name) @definition.method
(type_spec name: (type_identifier) @name type: (struct_type)) @definition.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface
(type_spec name: (type_identifier) @name) @definition.type
(source_file (const_declaration (const_spec name: (identifier) @name) @definition.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @definition.constant))

(call_expression function: (identifier) @reference.call)
(call_expression function: (selector_expression field: (field_identifier) @reference.member))
(type_identifier) @reference.type
(identifier) @reference.identifier

(import_spec path: (_) @import.module)
