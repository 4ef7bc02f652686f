# Sourced by the set-up scripts: install_venv VENV REQUIREMENTS [CHECK] makes VENV hold exactly the
# pinned REQUIREMENTS (recreating it when the file changed; a no-op otherwise). CHECK is the file
# that must exist inside the venv (default bin/python).
install_venv() {
  local venv=$1 requirements=$2 check=${3:-bin/python}
  local stamp=$venv/.requirements.sha256 wanted
  wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ -x "$venv/$check" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    return 0
  fi
  echo "setup: installing $requirements into $venv" >&2
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$requirements"
  echo "$wanted" > "$stamp"
}
