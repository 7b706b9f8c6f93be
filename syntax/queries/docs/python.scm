; Documentation targets. @definition.function / .method / .class around a definition, with @name,
; @parameters and @body. Facts gathered for every definition (each belongs to the innermost
; definition or @scope holding it): @param (a parameter name; @param.skip: one that is not
; documented), @return (a value is returned or yielded), @raise (an exception class raised).
; Layout: @wrapper (a node around a definition that its documentation goes above), @docstring
; (a documentation string that is the first statement of a module, class or function body).
(function_definition
  name: (identifier) @name
  parameters: (parameters) @parameters
  body: (block) @body) @definition.function
(class_definition
  body: (block
    (function_definition
      name: (identifier) @name
      parameters: (parameters) @parameters
      body: (block) @body) @definition.method))
(class_definition
  body: (block
    (decorated_definition
      definition: (function_definition
        name: (identifier) @name
        parameters: (parameters) @parameters
        body: (block) @body) @definition.method)))
(class_definition name: (identifier) @name body: (block) @body) @definition.class

(parameters (identifier) @param)
(parameters (typed_parameter (identifier) @param))
(parameters (default_parameter name: (identifier) @param))
(parameters (typed_default_parameter name: (identifier) @param))
(parameters (list_splat_pattern (identifier) @param))
(parameters (dictionary_splat_pattern (identifier) @param))
(parameters (typed_parameter (list_splat_pattern (identifier) @param)))
(parameters (typed_parameter (dictionary_splat_pattern (identifier) @param)))
(parameters . (identifier) @param.skip (#any-of? @param.skip "self" "cls"))
(parameters . (typed_parameter (identifier) @param.skip) (#any-of? @param.skip "self" "cls"))

(return_statement (_)) @return
(yield) @return

; Exception classes: CapWords names (a re-raised variable such as `raise exc` is not one).
(raise_statement . [(identifier) (attribute)] @raise
  (#match? @raise "^([A-Za-z_][A-Za-z0-9_]*[.])*_*[A-Z]"))
(raise_statement . (call function: [(identifier) (attribute)] @raise)
  (#match? @raise "^([A-Za-z_][A-Za-z0-9_]*[.])*_*[A-Z]"))

(lambda) @scope

(decorated_definition) @wrapper

(module . (expression_statement (string) @docstring))
(function_definition body: (block . (expression_statement (string) @docstring)))
(class_definition body: (block . (expression_statement (string) @docstring)))
