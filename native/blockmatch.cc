// logsieve._blockmatch: classify a whole block of log lines with one RE2 set
// in one call.
//
// The Python binding of RE2 costs about 1.3 us per call, more than matching
// the line itself (about 0.5 us): with one call per line that overhead is the
// checker's wall.  This module runs the per-line loop in C++ and hands back
// only what Python needs: the lines no rule matched, joined as they were read,
// the few lines whose hits need a closer look, and how many lines each rule
// matched (rule coverage, counted on the way).  The rules are the same
// RE2 patterns the engine gives google-re2's Set (engine.CompiledRules), so
// both matchers give the same hits; the test suite compares them.

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <re2/re2.h>
#include <re2/set.h>

#include <cstdint>
#include <cstring>
#include <cwctype>
#include <string>
#include <string_view>
#include <vector>

namespace {

// Trailing white space logcheck strips (lines.WHITESPACE in Python).
inline bool IsTrailingSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// The key of logcheck's `sort -k 1,3 -s` (lines.sort_order() in Python).
inline bool IsSortBlank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

std::string_view SortKey(const char* line, Py_ssize_t length) {
  Py_ssize_t end = 0;
  for (int field = 0; field < 3; field++) {
    while (end < length && IsSortBlank(line[end])) end++;
    while (end < length && !IsSortBlank(line[end])) end++;
  }
  return std::string_view(line, static_cast<size_t>(end));
}

struct RuleSetObject {
  PyObject_HEAD
  RE2::Set* set;
  int size;
};

void RuleSetDealloc(RuleSetObject* self) {
  delete self->set;
  Py_TYPE(self)->tp_free(reinterpret_cast<PyObject*>(self));
}

// RuleSet(patterns, max_mem): patterns is a sequence of bytes, added in order,
// so hit i is patterns[i].
int RuleSetInit(RuleSetObject* self, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"patterns", "max_mem", nullptr};
  PyObject* patterns;
  long long max_mem;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OL", const_cast<char**>(keywords),
                                   &patterns, &max_mem)) {
    return -1;
  }
  PyObject* sequence = PySequence_Fast(patterns, "patterns must be a sequence of bytes");
  if (sequence == nullptr) return -1;

  RE2::Options options;
  // Bytes, as grep in the C locale (and on lines of ASCII in a UTF-8 one).
  options.set_encoding(RE2::Options::EncodingLatin1);
  options.set_never_capture(true);
  options.set_log_errors(false);
  options.set_max_mem(max_mem);
  delete self->set;
  self->set = new RE2::Set(options, RE2::UNANCHORED);
  self->size = 0;

  Py_ssize_t count = PySequence_Fast_GET_SIZE(sequence);
  for (Py_ssize_t i = 0; i < count; i++) {
    PyObject* item = PySequence_Fast_GET_ITEM(sequence, i);
    char* data;
    Py_ssize_t length;
    if (PyBytes_AsStringAndSize(item, &data, &length) < 0) {
      Py_DECREF(sequence);
      return -1;
    }
    std::string error;
    if (self->set->Add(re2::StringPiece(data, length), &error) != i) {
      PyErr_Format(PyExc_ValueError, "pattern %zd: %s", i, error.c_str());
      Py_DECREF(sequence);
      return -1;
    }
  }
  Py_DECREF(sequence);
  if (count > 0 && !self->set->Compile()) {
    PyErr_SetString(PyExc_MemoryError, "the rule set is too large for RE2's memory budget");
    return -1;
  }
  self->size = static_cast<int>(count);
  return 0;
}

// A line some rule matched whose hits need a closer look.
struct Noticed {
  Py_ssize_t start, end;       // the line in the block, as read
  Py_ssize_t events_before;    // how many events precede it
  std::vector<int> hits;
  bool undecided;              // beyond ASCII in a UTF-8 locale: hits None
};

// Whether a line is all ASCII, eight bytes at a time.
inline bool IsAscii(const char* data, Py_ssize_t length) {
  Py_ssize_t i = 0;
  uint64_t high = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t word;
    memcpy(&word, data + i, 8);
    high |= word;
  }
  for (; i < length; i++) high |= static_cast<unsigned char>(data[i]);
  return (high & 0x8080808080808080ULL) == 0;
}

// classify(block, attention, utf8=False) -> the seven fields of
// engine.BlockMatch, as a tuple (documented there;
// engine.CompiledRules.classify_block() wraps it).  The last, `counts`, is
// bytes of 2 * patterns native int64: the hits of each pattern, then its
// sole hits, over the lines matched and not noticed (noticed lines' hits are
// candidates: the engine counts them once confirmed).  Counting costs an
// increment per hit of a line RE2 matched anyway.
//
// utf8 (a UTF-8 locale): a line beyond ASCII, rare, is not matched here: it
// is returned in `noticed` with hits None, and the engine matches it as the
// locale reads it (engine.CompiledRules; the same code whichever matcher).
//
// block: whole lines joined by newlines (no final newline), each matched
// without its trailing white space; attention: one byte per pattern, non-zero
// for the rules whose hits make a line noticed.  `events_before` in each
// noticed entry is how many events precede the line: if its hits turn out to
// be false ones, it is an event and goes there.
PyObject* RuleSetClassify(RuleSetObject* self, PyObject* args) {
  Py_buffer block, attention;
  int utf8 = 0;
  if (!PyArg_ParseTuple(args, "y*y*|p", &block, &attention, &utf8)) return nullptr;
  if (attention.len < self->size) {
    PyBuffer_Release(&block);
    PyBuffer_Release(&attention);
    PyErr_SetString(PyExc_ValueError, "attention must have one byte per pattern");
    return nullptr;
  }
  const char* text = static_cast<const char*>(block.buf);
  const unsigned char* flags = static_cast<const unsigned char*>(attention.buf);
  const Py_ssize_t length = block.len;

  std::string events;
  Py_ssize_t event_count = 0;
  Py_ssize_t line_count = 0;
  int strip = 0;
  std::string_view first_key, last_key;
  bool in_order = true;
  std::vector<Noticed> noticed;
  // hits of pattern i at counts[i], its sole hits at counts[size + i]
  std::vector<int64_t> counts(2 * static_cast<size_t>(self->size), 0);

  Py_BEGIN_ALLOW_THREADS
  events.reserve(static_cast<size_t>(length));
  std::vector<int> hits;
  Py_ssize_t start = 0;
  for (;;) {
    const char* newline = static_cast<const char*>(
        memchr(text + start, '\n', static_cast<size_t>(length - start)));
    Py_ssize_t end = newline ? newline - text : length;
    Py_ssize_t stripped = end;
    while (stripped > start && IsTrailingSpace(text[stripped - 1])) stripped--;
    line_count++;
    hits.clear();
    if (utf8 && !IsAscii(text + start, stripped - start)) {
      noticed.push_back(Noticed{start, end, event_count, {}, true});
      if (newline == nullptr) break;
      start = end + 1;
      continue;
    }
    bool matched = self->size > 0 &&
        self->set->Match(re2::StringPiece(text + start, stripped - start), &hits);
    if (!matched) {
      if (event_count > 0) events.push_back('\n');
      events.append(text + start, static_cast<size_t>(end - start));
      event_count++;
      strip |= stripped != end;
      std::string_view key = SortKey(text + start, end - start);
      if (event_count == 1) first_key = key;
      else if (key < last_key) in_order = false;  // bytes, as memcmp: C locale
      last_key = key;
    } else {
      bool flagged = false;
      for (int hit : hits) {
        if (flags[hit]) {
          flagged = true;
          break;
        }
      }
      if (flagged) {
        noticed.push_back(Noticed{start, end, event_count, hits, false});
      } else {
        for (int hit : hits) counts[hit]++;
        if (hits.size() == 1) counts[self->size + hits[0]]++;
      }
    }
    if (newline == nullptr) break;
    start = end + 1;
  }
  Py_END_ALLOW_THREADS

  PyBuffer_Release(&attention);
  PyObject* noticed_list = PyList_New(static_cast<Py_ssize_t>(noticed.size()));
  PyObject* events_bytes = nullptr;
  PyObject* order = nullptr;
  PyObject* counts_bytes = nullptr;
  if (noticed_list == nullptr) goto fail;
  for (size_t i = 0; i < noticed.size(); i++) {
    const Noticed& line = noticed[i];
    PyObject* hit_list;
    if (line.undecided) {
      Py_INCREF(Py_None);
      hit_list = Py_None;
    } else {
      hit_list = PyList_New(static_cast<Py_ssize_t>(line.hits.size()));
      if (hit_list == nullptr) goto fail;
      for (size_t j = 0; j < line.hits.size(); j++) {
        PyList_SET_ITEM(hit_list, j, PyLong_FromLong(line.hits[j]));
      }
    }
    PyObject* entry = Py_BuildValue(
        "(y#Nn)", text + line.start, line.end - line.start, hit_list, line.events_before);
    if (entry == nullptr) goto fail;
    PyList_SET_ITEM(noticed_list, i, entry);
  }
  events_bytes = PyBytes_FromStringAndSize(events.data(), static_cast<Py_ssize_t>(events.size()));
  if (events_bytes == nullptr) goto fail;
  if (event_count > 0) {
    order = Py_BuildValue("(y#y#N)", first_key.data(), static_cast<Py_ssize_t>(first_key.size()),
                          last_key.data(), static_cast<Py_ssize_t>(last_key.size()),
                          PyBool_FromLong(in_order));
  } else {
    Py_INCREF(Py_None);
    order = Py_None;
  }
  if (order == nullptr) goto fail;
  counts_bytes = PyBytes_FromStringAndSize(
      reinterpret_cast<const char*>(counts.data()),
      static_cast<Py_ssize_t>(counts.size() * sizeof(int64_t)));
  if (counts_bytes == nullptr) goto fail;
  PyBuffer_Release(&block);
  return Py_BuildValue("(nNnNNNN)", line_count, events_bytes, event_count,
                       PyBool_FromLong(strip), order, noticed_list, counts_bytes);

fail:
  Py_XDECREF(order);
  Py_XDECREF(events_bytes);
  Py_XDECREF(noticed_list);
  PyBuffer_Release(&block);
  return nullptr;
}

// class_runs(name) -> [(first, last), ...]: the code points iswctype(3) puts
// in class `name` in the current LC_CTYPE locale, as runs.  The engine reads
// a UTF-8 locale's classes with it (charclass.locale_class; the same calls
// through ctypes take seconds, here milliseconds).
PyObject* ClassRuns(PyObject*, PyObject* args) {
  const char* name;
  if (!PyArg_ParseTuple(args, "s", &name)) return nullptr;
  wctype_t type = wctype(name);
  if (type == 0) {
    PyErr_Format(PyExc_ValueError, "unknown character class %s", name);
    return nullptr;
  }
  std::vector<std::pair<long, long>> runs;
  for (long code = 0; code < 0x110000; code++) {
    if (!iswctype(static_cast<wint_t>(code), type)) continue;
    if (!runs.empty() && runs.back().second == code - 1) runs.back().second = code;
    else runs.emplace_back(code, code);
  }
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(runs.size()));
  if (list == nullptr) return nullptr;
  for (size_t i = 0; i < runs.size(); i++) {
    PyObject* run = Py_BuildValue("(ll)", runs[i].first, runs[i].second);
    if (run == nullptr) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), run);
  }
  return list;
}

PyMethodDef module_methods[] = {
    {"class_runs", ClassRuns, METH_VARARGS,
     "class_runs(name) -> [(first, last), ...] of iswctype(3) in the current locale"},
    {nullptr, nullptr, 0, nullptr},
};

PyMethodDef rule_set_methods[] = {
    {"classify", reinterpret_cast<PyCFunction>(RuleSetClassify), METH_VARARGS,
     "classify(block, attention, utf8=False) -> "
     "(lines, events, event_count, strip, order, noticed, counts)"},
    {nullptr, nullptr, 0, nullptr},
};

PyTypeObject rule_set_type = {PyVarObject_HEAD_INIT(nullptr, 0)};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_blockmatch",
    "Block-at-a-time matching of log lines against an RE2 set.", -1, module_methods,
};

}  // namespace

PyMODINIT_FUNC PyInit__blockmatch(void) {
  rule_set_type.tp_name = "logsieve._blockmatch.RuleSet";
  rule_set_type.tp_basicsize = sizeof(RuleSetObject);
  rule_set_type.tp_flags = Py_TPFLAGS_DEFAULT;
  rule_set_type.tp_doc = "RuleSet(patterns, max_mem): RE2 patterns compiled as one set.";
  rule_set_type.tp_new = PyType_GenericNew;
  rule_set_type.tp_init = reinterpret_cast<initproc>(RuleSetInit);
  rule_set_type.tp_dealloc = reinterpret_cast<destructor>(RuleSetDealloc);
  rule_set_type.tp_methods = rule_set_methods;
  if (PyType_Ready(&rule_set_type) < 0) return nullptr;
  PyObject* module = PyModule_Create(&module_def);
  if (module == nullptr) return nullptr;
  Py_INCREF(&rule_set_type);
  if (PyModule_AddObject(module, "RuleSet", reinterpret_cast<PyObject*>(&rule_set_type)) < 0) {
    Py_DECREF(&rule_set_type);
    Py_DECREF(module);
    return nullptr;
  }
  return module;
}
