;;; emacs_driver.el --- drive eglot + Kodama in `emacs --batch' (run by test_emacs.py)  -*- lexical-binding: t -*-

;; The spec (JSON file named by $KODAMA_EMACS_TEST) gives: `config', a file holding the eglot
;; configuration from editors/README.md with the server command filled in; `file', the Python
;; file to open; `results', where to write what was seen (JSON).  The steps go through the
;; paths a user takes: the configuration's `python-mode-hook' starts eglot, `completion-at-point'
;; completes with eglot's capf, eldoc's hover function shows the explanation, and
;; `eglot-code-actions' runs Generate docstring.

(require 'cl-lib)
(require 'json)
(require 'subr-x)

(defvar kodama-test-spec
  (let ((json-object-type 'alist) (json-array-type 'list) (json-key-type 'symbol))
    (json-read-file (getenv "KODAMA_EMACS_TEST"))))
(defvar kodama-test-results nil "Alist of observations.")
(defvar kodama-test-start (float-time))

(defun kodama-test-put (key value)
  (setq kodama-test-results (cons (cons key value) (assq-delete-all key kodama-test-results))))

(defun kodama-test-write ()
  (kodama-test-put 'elapsed_s (- (float-time) kodama-test-start))
  (with-temp-file (alist-get 'results kodama-test-spec)
    (insert (json-encode kodama-test-results))))

(defun kodama-test-wait (what timeout predicate)
  "Process events until PREDICATE returns non-nil (its value), or fail after TIMEOUT s."
  (let ((deadline (+ (float-time) timeout)) value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (unless value (error "Timed out waiting for %s" what))
    value))

(defun kodama-test-main ()
  ;; The documented configuration, as a user's init file would have it.
  (load (alist-get 'config kodama-test-spec) nil t)
  (kodama-test-put 'eglot_version (and (boundp 'eglot--version) eglot--version))
  (find-file (alist-get 'file kodama-test-spec))
  (kodama-test-put 'major_mode (symbol-name major-mode))
  ;; `eglot-ensure' (from python-mode-hook) connects after the next command: run that hook.
  (run-hooks 'post-command-hook)
  (kodama-test-wait "eglot to connect" 60 (lambda () (eglot-current-server)))
  (kodama-test-wait "model ready" 120
                    (lambda () (or (equal kodama-eglot-state "ready")
                                   (and (equal kodama-eglot-state "error")
                                        (error "Model failed: %s" kodama-eglot-message)))))
  (kodama-test-put 'status kodama-eglot-state)
  ;; (format-mode-line gives "" in batch: there is no mode line; evaluate the construct.)
  (kodama-test-put 'mode_line (and (memq 'kodama-eglot-mode-line global-mode-string)
                                   (eval (cadr kodama-eglot-mode-line) t)))

  ;; 1. Completion at the end of "    total = " with completion-at-point (eglot's capf).
  (goto-char (point-min))
  (search-forward "    total = ")
  (let* ((line-start (line-beginning-position))
         (capf (eglot-completion-at-point))
         (candidates (and capf (all-completions "" (nth 2 capf)))))
    (kodama-test-put 'capf_candidates candidates)
    (kodama-test-put 'line_before (buffer-substring-no-properties line-start (line-end-position)))
    (completion-at-point)
    (kodama-test-put 'line_after (buffer-substring-no-properties
                                  line-start (line-end-position))))

  ;; 2. Hover on "def area" through eldoc's function (what eldoc shows in the echo area).
  (goto-char (point-min))
  (search-forward "def area")
  (backward-char 2)
  (let (hover (tries 0))
    (while (or (null hover) (string-match-p "Writing an explanation" hover))
      (when (> (cl-incf tries) 30) (error "No finished explanation after 30 hovers: %S" hover))
      (when hover (sleep-for 0.5))
      (setq hover nil)
      (let ((answered nil))
        (eglot-hover-eldoc-function (lambda (info &rest _) (setq hover (or info "") answered t)))
        (kodama-test-wait "hover" 60 (lambda () answered))))
    (kodama-test-put 'hover (substring-no-properties hover))
    (kodama-test-put 'hover_tries tries))

  ;; 3. The Generate docstring code action (eglot-code-actions, as M-x eglot-code-actions).
  ;; eglot asks before applying a server's edit (`eglot-confirm-server-initiated-edits'): the
  ;; batch "user" answers yes, and the question is recorded.
  (advice-add 'y-or-n-p :around
              (lambda (_orig prompt &rest _)
                (kodama-test-put 'confirm_prompt (substring-no-properties prompt))
                t))
  (goto-char (point-min))
  (search-forward "    if width")
  (let ((before (buffer-substring-no-properties (point-min) (point-max)))
        (titles (mapcar (lambda (a) (plist-get a :title))
                        (eglot-code-actions (point) nil nil nil))))
    (kodama-test-put 'code_actions titles)
    (eglot-code-actions (point) nil "refactor.rewrite.kodama.docstring" t)
    (kodama-test-wait "docstring applied" 60
                      (lambda () (not (equal before (buffer-substring-no-properties
                                                     (point-min) (point-max))))))
    (kodama-test-put 'text_before_docstring before)
    (kodama-test-put 'text_after_docstring
                     (buffer-substring-no-properties (point-min) (point-max))))
  (kodama-test-put 'ok t))

(condition-case err
    (progn (kodama-test-main) (kodama-test-write)
           (ignore-errors (eglot-shutdown (eglot-current-server)))
           (kill-emacs 0))
  (error
   (kodama-test-put 'error (error-message-string err))
   (kodama-test-put 'events (with-current-buffer
                                (or (get-buffer (format "*EGLOT (%s) events*" "repo"))
                                    (cl-find "events" (buffer-list)
                                             :key #'buffer-name :test #'string-match-p)
                                    (get-buffer-create "*none*"))
                              (let ((s (buffer-string)))
                                (substring s (max 0 (- (length s) 6000))))))
   (kodama-test-write)
   (kill-emacs 1)))

;;; emacs_driver.el ends here
