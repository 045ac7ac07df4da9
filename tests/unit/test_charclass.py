"""The locale logsieve matches in, and what its classes hold."""

import os
import subprocess
import sys

from logsieve import charclass


def test_locale_is_read_as_setlocale_reads_it():
    assert charclass.locale_name({"LANG": "C.UTF-8"}) == "C.UTF-8"
    assert charclass.locale_name({"LANG": "C.UTF-8", "LC_CTYPE": "C"}) == "C"
    assert charclass.locale_name({"LC_ALL": "POSIX", "LC_CTYPE": "C.UTF-8"}) == "POSIX"
    assert charclass.locale_name({"LC_ALL": "", "LANG": "C.UTF-8"}) == "C.UTF-8"
    assert charclass.locale_name({}) == "C"


def test_utf8_locales():
    assert charclass.is_utf8("C.UTF-8")
    assert not charclass.is_utf8("C") and not charclass.is_utf8("POSIX")
    assert not charclass.is_utf8("xx_NOWHERE.UTF-8")  # not installed: C, as for grep


def test_the_c_locale_stays_c_under_python():
    # Python turns a C locale into C.UTF-8 in its own environment (PEP 538);
    # logsieve reads the environment it was given.
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("LC_") and key != "LANG"}
    code = "from logsieve import charclass; print(charclass.utf8_locale())"
    for given, expected in [({"LC_ALL": "C"}, "None"), ({"LANG": "C"}, "None"), ({}, "None"),
                            ({"LANG": "C.UTF-8"}, "C.UTF-8")]:
        output = subprocess.run([sys.executable, "-c", code], env={**environment, **given},
                                stdout=subprocess.PIPE, check=True).stdout.decode().strip()
        assert output == expected, given


def test_transcription_keeps_classes_and_marks_stray_bytes():
    transcription = charclass.transcription("C.UTF-8")
    line = "a é ٣ ² ".encode() + b"\xff"
    data = transcription.transcribe(line)
    assert data[:2] == b"a " and data[-1] == charclass.INVALID and len(data) == 9

    def members(name, byte):
        return any(first <= byte <= last for first, last in transcription.classes[name])

    e_acute, three, two = data[2], data[4], data[6]
    assert members("alpha", e_acute) and members("lower", e_acute)
    assert members("alnum", three) and not members("digit", three)  # glibc: digits are ASCII
    assert members("punct", two) and not members("alnum", two)
    assert not any(members(name, charclass.INVALID) for name in charclass.CLASSES)
