"""The Chinese fonts a PDF can be drawn with, found as WeasyPrint (Pango) finds them:
through fontconfig, the system's fonts plus the data home's fonts/ folder.

Without one, every Chinese character of a PDF is an empty box. The publication
build then refuses to write PDFs and says which package to install (`require`);
the font set is part of the documents' render digest, so installing a font later
renders them again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from pathlib import Path

from schemas.errors import HomeError

FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".woff", ".woff2"}
LANGUAGE = b":lang=zh-cn"  # fonts that cover simplified Chinese
NO_CJK_FONT = (
    "没有找到中文字体，生成的 PDF 中文会全部显示为方框，因此不生成 PDF。请安装中文字体后重新编制"
    "（Debian/Ubuntu：sudo apt-get install fonts-noto-cjk；其他系统：安装思源宋体/思源黑体，即 Noto CJK），"
    "或把正式字体文件放进数据目录的 fonts/ 文件夹；不需要 PDF 时可用 --formats html,md,docx。"
)


def home_fonts(home_root: Path | None) -> list[Path]:
    """Font files in the home's fonts/ folder (a file's name is the font's name)."""
    folder = home_root / "fonts" if home_root else None
    if folder is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES and p.is_file())


class _FontSet(ctypes.Structure):
    _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.POINTER(ctypes.c_void_p))]


@cache
def _fontconfig():
    """libfontconfig (WeasyPrint's Pango needs it, so it is there), or None."""
    for name in (ctypes.util.find_library("fontconfig"), "libfontconfig.so.1", "libfontconfig.1.dylib"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        p = ctypes.c_void_p
        lib.FcInitLoadConfigAndFonts.restype = p
        lib.FcConfigDestroy.argtypes = [p]
        lib.FcConfigAppFontAddFile.argtypes = [p, ctypes.c_char_p]
        lib.FcNameParse.restype, lib.FcNameParse.argtypes = p, [ctypes.c_char_p]
        lib.FcObjectSetBuild.restype = p
        lib.FcObjectSetDestroy.argtypes = [p]
        lib.FcPatternDestroy.argtypes = [p]
        lib.FcFontList.restype, lib.FcFontList.argtypes = ctypes.POINTER(_FontSet), [p, p, p]
        lib.FcFontSetDestroy.argtypes = [ctypes.POINTER(_FontSet)]
        lib.FcPatternGetString.argtypes = [p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
        return lib
    return None


def _chinese_font_files(extra: list[Path]) -> list[str]:
    """Files of the fonts fontconfig knows (the system's and `extra`) that cover Chinese."""
    lib = _fontconfig()
    if lib is None:
        return []
    config = lib.FcInitLoadConfigAndFonts()  # a fresh look: fonts installed since are seen
    pattern = lib.FcNameParse(LANGUAGE)
    objects = lib.FcObjectSetBuild(b"file", None)
    try:
        for path in extra:
            lib.FcConfigAppFontAddFile(config, str(path).encode())
        found = lib.FcFontList(config, pattern, objects)
        files = []
        for i in range(found.contents.nfont if found else 0):
            value = ctypes.c_char_p()
            if lib.FcPatternGetString(found.contents.fonts[i], b"file", 0, ctypes.byref(value)) == 0:
                files.append(value.value.decode("utf-8", "replace"))
        if found:
            lib.FcFontSetDestroy(found)
        return files
    finally:
        lib.FcObjectSetDestroy(objects)
        lib.FcPatternDestroy(pattern)
        lib.FcConfigDestroy(config)


def cjk_fonts(home_root: Path | None) -> tuple[tuple[str, int, int], ...]:
    """(file, size, mtime) of every font that can draw Chinese: the font set a PDF follows."""
    out = set()
    for name in _chinese_font_files(home_fonts(home_root)):
        try:
            stat = Path(name).stat()
        except OSError:
            continue
        out.add((name, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(out))


def require(home_root: Path | None) -> tuple[tuple[str, int, int], ...]:
    """The font set, or HomeError saying which package to install (no PDF in empty boxes)."""
    fonts = cjk_fonts(home_root)
    if not fonts:
        raise HomeError(NO_CJK_FONT)
    return fonts
