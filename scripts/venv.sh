# Sourced by the set-up scripts: install_venv VENV REQUIREMENTS [CHECK] makes VENV hold exactly the
# pinned REQUIREMENTS (recreating it when the file changed; a no-op otherwise). CHECK is the file
# that must exist inside the venv (default bin/python).
#
# The venvs are made and filled by uv (pinned below, itself from PyPI into .venv-uv): it resolves
# and installs the same pins several times faster than pip, and its cache (~/.cache/uv) serves a
# second clone on the same machine without downloading again. The venvs have no pip of their own.
UV_VERSION=0.13.8

uv_bin() {
  local tool=.venv-uv
  if ! [ -x "$tool/bin/uv" ] || [ "$("$tool/bin/uv" --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    echo "setup: installing uv $UV_VERSION into $tool" >&2
    rm -rf "$tool"
    "${PYTHON:-python3}" -m venv "$tool"
    "$tool/bin/pip" install --quiet --disable-pip-version-check --no-input "uv==$UV_VERSION"
  fi
  echo "$tool/bin/uv"
}

install_venv() {
  local venv=$1 requirements=$2 check=${3:-bin/python}
  local stamp=$venv/.requirements.sha256 wanted uv
  wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ -x "$venv/$check" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    return 0
  fi
  uv=$(uv_bin)
  echo "setup: installing $requirements into $venv" >&2
  rm -rf "$venv"
  "$uv" venv --quiet --python "$(command -v "${PYTHON:-python3}")" "$venv"
  "$uv" pip install --quiet --python "$venv/bin/python" -r "$requirements"
  echo "$wanted" > "$stamp"
}
