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
// both matchers give the same hits; the test suite compares them.  The other
// per-line loops of a run live here too, each with its Python twin: the
// report's order (sort_lines, RunMerger) and the grouped report's buckets
// (bucket_lines).

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <re2/re2.h>
#include <re2/set.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <cwctype>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
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

PyObject* SortLines(PyObject*, PyObject* args);  // below, with the run merger
PyObject* BucketLines(PyObject*, PyObject* args);  // below: the grouped report's buckets
PyObject* SplitRuns(PyObject*, PyObject* args);  // below, with the run merger
PyObject* BucketCounts(PyObject*, PyObject* args);  // below, with the buckets
PyObject* TimeBounds(PyObject*, PyObject* args);  // below, with the buckets

PyMethodDef module_methods[] = {
    {"class_runs", ClassRuns, METH_VARARGS,
     "class_runs(name) -> [(first, last), ...] of iswctype(3) in the current locale"},
    {"sort_lines", SortLines, METH_VARARGS,
     "sort_lines(text) -> (lines sorted stably on sort -k 1,3's key, first key, last key)"},
    {"split_runs", SplitRuns, METH_VARARGS,
     "split_runs(fd, runs) -> [offset, ...] where each sorted run divides at one key"},
    {"bucket_lines", BucketLines, METH_VARARGS,
     "bucket_lines(text) -> [(program, key, indices, stamps, hosts, messages), ...]"},
    {"time_bounds", TimeBounds, METH_VARARGS,
     "time_bounds(stamps) -> (earliest, latest) in syslogline.time_key's order, "
     "or None when every stamp is empty"},
    {"bucket_counts", BucketCounts, METH_VARARGS,
     "bucket_counts(messages, lines, layout, split) -> [{value: count}, ...] of each variable "
     "token (split: [(values seen once joined by newlines, how many, {value: count} of the "
     "others), ...]), or None when a line does not fit the sample"},
    {nullptr, nullptr, 0, nullptr},
};

PyMethodDef rule_set_methods[] = {
    {"classify", reinterpret_cast<PyCFunction>(RuleSetClassify), METH_VARARGS,
     "classify(block, attention, utf8=False) -> "
     "(lines, events, event_count, strip, order, noticed, counts)"},
    {nullptr, nullptr, 0, nullptr},
};

PyTypeObject rule_set_type = {PyVarObject_HEAD_INIT(nullptr, 0)};


// --- logcheck's order (`sort -k 1,3 -s`, C locale) without sort(1) ---------
//
// Report lines arrive in blocks.  A log is written in time order, so a block
// is nearly sorted already (classic stamps have whole seconds: lines of one
// second are in time order, not in sort(1)'s), and a central server's
// per-host files are each sorted.  So each block is sorted on its own (a
// local fix-up, stably), consecutive sorted blocks are runs, and the runs are
// merged, ties going to the earlier run: that is exactly a stable sort of
// the whole, compared as memcmp of the keys as sort(1) does in the C locale.

// sort_lines(text) -> (sorted text, first key, last key)
// text: lines joined by newlines (no final newline: "" is one empty line),
// as classify() returns events.  The lines come back sorted stably on the
// key, joined the same way; the keys are those of the first and the last.
PyObject* SortLines(PyObject*, PyObject* args) {
  Py_buffer block;
  if (!PyArg_ParseTuple(args, "y*", &block)) return nullptr;
  const char* text = static_cast<const char*>(block.buf);
  const Py_ssize_t length = block.len;
  std::string sorted;
  std::vector<std::pair<std::string_view, Py_ssize_t>> keys;  // (key, line start)
  Py_BEGIN_ALLOW_THREADS
  // Line i is [starts[i], starts[i + 1] - 1): a virtual newline ends the last.
  std::vector<Py_ssize_t> starts{0};
  for (const char* at = text; (at = static_cast<const char*>(
           memchr(at, '\n', static_cast<size_t>(text + length - at)))) != nullptr; at++) {
    starts.push_back(at - text + 1);
  }
  starts.push_back(length + 1);
  keys.reserve(starts.size() - 1);
  for (size_t i = 0; i + 1 < starts.size(); i++) {
    keys.emplace_back(SortKey(text + starts[i], starts[i + 1] - 1 - starts[i]), i);
  }
  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  if (!std::is_sorted(keys.begin(), keys.end(), by_key)) {
    std::stable_sort(keys.begin(), keys.end(), by_key);
  }
  sorted.reserve(static_cast<size_t>(length) + 1);
  for (const auto& key : keys) {
    Py_ssize_t start = starts[key.second];
    sorted.append(text + start, static_cast<size_t>(starts[key.second + 1] - 1 - start));
    sorted.push_back('\n');
  }
  sorted.pop_back();  // joined, not terminated
  Py_END_ALLOW_THREADS
  PyObject* result = Py_BuildValue(
      "(y#y#y#)", sorted.data(), static_cast<Py_ssize_t>(sorted.size()),
      keys.front().first.data(), static_cast<Py_ssize_t>(keys.front().first.size()),
      keys.back().first.data(), static_cast<Py_ssize_t>(keys.back().first.size()));
  PyBuffer_Release(&block);
  return result;
}

// One sorted run of lines in a file, read through a buffer of its own.
struct Run {
  Py_ssize_t offset, end;   // what is left of the run in the file
  std::string buffer;       // whole lines read ahead, from `position` on
  size_t position = 0;
  std::string_view line;    // the current line, with its newline
  std::string_view key;
};

struct RunMergerObject {
  PyObject_HEAD
  int fd;
  int strip;                // whether lines lose their trailing white space
  size_t buffer_size;
  std::vector<Run>* runs;
  std::vector<int>* heap;   // indices of runs with a current line
};

// Reads the next line of a run into run.line; false at its end.
bool NextLine(int fd, size_t buffer_size, Run& run) {
  for (;;) {
    const char* data = run.buffer.data() + run.position;
    size_t left = run.buffer.size() - run.position;
    const char* newline = static_cast<const char*>(memchr(data, '\n', left));
    if (newline != nullptr) {
      size_t length = static_cast<size_t>(newline - data) + 1;
      run.line = std::string_view(data, length);
      run.key = SortKey(data, static_cast<Py_ssize_t>(length - 1));
      run.position += length;
      return true;
    }
    if (run.offset >= run.end) {
      if (left == 0) return false;
      run.buffer.erase(0, run.position);  // a last line without a newline
      run.buffer.push_back('\n');
      run.position = 0;
      continue;
    }
    run.buffer.erase(0, run.position);
    run.position = 0;
    size_t want = std::max(buffer_size, run.buffer.size() * 2);
    want = std::min(want, static_cast<size_t>(run.end - run.offset));
    size_t had = run.buffer.size();
    run.buffer.resize(had + want);
    ssize_t got;
    do {
      got = pread(fd, &run.buffer[had], want, run.offset);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
      run.buffer.resize(had);
      if (got < 0) return false;
      run.offset = run.end;  // the file is shorter than said: end the run
      continue;
    }
    run.buffer.resize(had + static_cast<size_t>(got));
    run.offset += got;
  }
}

// The heap order: the smaller key first, then the earlier run (stability).
struct Later {
  const std::vector<Run>* runs;
  bool operator()(int a, int b) const {
    const Run& x = (*runs)[a];
    const Run& y = (*runs)[b];
    int order = x.key.compare(y.key);
    return order != 0 ? order > 0 : a > b;
  }
};

// Runs given as a sequence of (offset, length) of a file, read ahead from none.
bool ParseRuns(PyObject* runs, std::vector<Run>& parsed) {
  PyObject* sequence = PySequence_Fast(runs, "runs must be a sequence of (offset, length)");
  if (sequence == nullptr) return false;
  parsed.assign(static_cast<size_t>(PySequence_Fast_GET_SIZE(sequence)), Run());
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(sequence); i++) {
    Py_ssize_t offset, length;
    if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(sequence, i), "nn", &offset, &length)) {
      Py_DECREF(sequence);
      return false;
    }
    parsed[static_cast<size_t>(i)].offset = offset;
    parsed[static_cast<size_t>(i)].end = offset + length;
  }
  Py_DECREF(sequence);
  return true;
}

void RunMergerDealloc(RunMergerObject* self) {
  delete self->runs;
  delete self->heap;
  Py_TYPE(self)->tp_free(reinterpret_cast<PyObject*>(self));
}

// RunMerger(fd, runs, buffer_size, strip=False): runs is a sequence of
// (offset, length) of sorted runs of lines in the file open as `fd`, in input
// order; with `strip`, lines are written without their trailing white space
// (lines.strip_line), as the report shows them.
int RunMergerInit(RunMergerObject* self, PyObject* args, PyObject*) {
  PyObject* runs;
  Py_ssize_t buffer_size;
  self->strip = 0;
  if (!PyArg_ParseTuple(args, "iOn|p", &self->fd, &runs, &buffer_size, &self->strip)) return -1;
  delete self->runs;
  delete self->heap;
  self->runs = new std::vector<Run>();
  self->heap = new std::vector<int>();
  self->buffer_size = static_cast<size_t>(std::max<Py_ssize_t>(buffer_size, 4096));
  if (!ParseRuns(runs, *self->runs)) return -1;
  bool failed = false;
  Py_BEGIN_ALLOW_THREADS
  for (size_t i = 0; i < self->runs->size(); i++) {
    errno = 0;
    if (NextLine(self->fd, self->buffer_size, (*self->runs)[i])) {
      self->heap->push_back(static_cast<int>(i));
    } else if (errno != 0) {
      failed = true;
    }
  }
  std::make_heap(self->heap->begin(), self->heap->end(), Later{self->runs});
  Py_END_ALLOW_THREADS
  if (failed) {
    PyErr_SetFromErrno(PyExc_OSError);
    return -1;
  }
  return 0;
}

// read(size) -> bytes: the next merged lines, whole, about `size` bytes
// (at least one line); b"" at the end.
PyObject* RunMergerRead(RunMergerObject* self, PyObject* args) {
  Py_ssize_t size;
  if (!PyArg_ParseTuple(args, "n", &size)) return nullptr;
  if (self->runs == nullptr) {
    PyErr_SetString(PyExc_ValueError, "RunMerger was not initialised");
    return nullptr;
  }
  std::string out;
  bool failed = false;
  Py_BEGIN_ALLOW_THREADS
  out.reserve(static_cast<size_t>(size) + 4096);
  std::vector<int>& heap = *self->heap;
  Later later{self->runs};
  while (!heap.empty() && out.size() < static_cast<size_t>(size)) {
    std::pop_heap(heap.begin(), heap.end(), later);
    Run& run = (*self->runs)[heap.back()];
    if (self->strip) {
      size_t length = run.line.size() - 1;  // without its newline
      while (length > 0 && IsTrailingSpace(run.line[length - 1])) length--;
      out.append(run.line.data(), length);
      out.push_back('\n');
    } else {
      out.append(run.line.data(), run.line.size());
    }
    errno = 0;
    if (NextLine(self->fd, self->buffer_size, run)) {
      std::push_heap(heap.begin(), heap.end(), later);
    } else {
      failed = errno != 0;
      heap.pop_back();
      if (failed) break;
    }
  }
  Py_END_ALLOW_THREADS
  if (failed) return PyErr_SetFromErrno(PyExc_OSError);
  return PyBytes_FromStringAndSize(out.data(), static_cast<Py_ssize_t>(out.size()));
}

// --- Two merges at once: the runs split at a key ---------------------------
//
// The final merge is one core's work while the other waits.  Cut every run at
// the same key (the weighted median of the runs' middle keys): the lines
// below it in every run are merged and written while another thread merges
// those from it on; ties all fall in the upper part, so each part's stable
// merge is the whole's.

// pread() all of [start, start + length), or less at the end of the file.
bool ReadAt(int fd, Py_ssize_t start, size_t length, std::string& out) {
  out.resize(length);
  size_t got = 0;
  while (got < length) {
    ssize_t read = pread(fd, &out[got], length - got, start + static_cast<Py_ssize_t>(got));
    if (read < 0 && errno == EINTR) continue;
    if (read < 0) return false;
    if (read == 0) break;
    got += static_cast<size_t>(read);
  }
  out.resize(got);
  return true;
}

// The first line start at or after `at` in a run that starts at `first`
// (a line starts there or after a newline); `end` if there is none before it.
bool LineStart(int fd, Py_ssize_t first, Py_ssize_t at, Py_ssize_t end, Py_ssize_t& start) {
  if (at <= first) {
    start = first;
    return true;
  }
  std::string chunk;
  for (Py_ssize_t from = at - 1; from < end; from += 4096) {
    if (!ReadAt(fd, from, static_cast<size_t>(std::min<Py_ssize_t>(4096, end - from)), chunk))
      return false;
    if (chunk.empty()) break;
    const void* newline = memchr(chunk.data(), '\n', chunk.size());
    if (newline != nullptr) {
      start = from + (static_cast<const char*>(newline) - chunk.data()) + 1;
      return true;
    }
  }
  start = end;
  return true;
}

// The line of the file at `start` (before `end`) into `line`, read as a
// run's next line (NextLine: its key too); false with errno 0 if there is none.
bool LineAt(int fd, Py_ssize_t start, Py_ssize_t end, Run& line) {
  line.offset = start;
  line.end = end;
  line.buffer.clear();
  line.position = 0;
  errno = 0;
  return NextLine(fd, 4096, line);
}

// The first line of a sorted run [first, end) whose key is `pivot` or above
// (a binary search on line starts); `end` if there is none.
bool Boundary(int fd, Py_ssize_t first, Py_ssize_t end, std::string_view pivot,
              Py_ssize_t& boundary) {
  Py_ssize_t low = first, high = end;  // lines before `low` are below the pivot
  Run probe;
  while (low < high) {
    Py_ssize_t start;
    if (!LineStart(fd, low, low + (high - low) / 2, high, start)) return false;
    if (start >= high) start = low;  // one line left between them
    if (!LineAt(fd, start, end, probe)) {
      if (errno != 0) return false;
      break;  // the file is shorter than said
    }
    if (probe.key < pivot) {
      low = start + static_cast<Py_ssize_t>(probe.line.size());
    } else {
      high = start;
    }
  }
  boundary = std::min(low, end);
  return true;
}

// split_runs(fd, runs) -> [offset, ...]: where each sorted run (offset,
// length) of the file divides at the pivot key, about half the bytes below.
PyObject* SplitRuns(PyObject*, PyObject* args) {
  int fd;
  PyObject* runs;
  std::vector<Run> bounds;
  if (!PyArg_ParseTuple(args, "iO", &fd, &runs) || !ParseRuns(runs, bounds)) return nullptr;
  std::vector<Py_ssize_t> boundaries(bounds.size());
  bool failed = false;
  Py_BEGIN_ALLOW_THREADS
  std::vector<std::pair<std::string, Py_ssize_t>> middles;  // (key, run's length)
  Py_ssize_t total = 0;
  Run probe;
  for (const Run& run : bounds) {
    Py_ssize_t start;
    if (run.end <= run.offset) continue;
    if (!LineStart(fd, run.offset, run.offset + (run.end - run.offset) / 2, run.end, start)) {
      failed = true;
      break;
    }
    if (!LineAt(fd, start < run.end ? start : run.offset, run.end, probe)) {
      failed = errno != 0;
      if (failed) break;
      continue;  // the file is shorter than said
    }
    middles.emplace_back(std::string(probe.key), run.end - run.offset);
    total += run.end - run.offset;
  }
  std::sort(middles.begin(), middles.end());
  std::string pivot;
  Py_ssize_t below = 0;
  for (const auto& [key, length] : middles) {
    pivot = key;
    below += length;
    if (2 * below >= total) break;
  }
  for (size_t i = 0; i < bounds.size() && !failed; i++) {
    failed = !Boundary(fd, bounds[i].offset, bounds[i].end, pivot, boundaries[i]);
  }
  Py_END_ALLOW_THREADS
  if (failed) return PyErr_SetFromErrno(PyExc_OSError);
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(boundaries.size()));
  if (list == nullptr) return nullptr;
  for (size_t i = 0; i < boundaries.size(); i++) {
    PyObject* offset = PyLong_FromSsize_t(boundaries[i]);
    if (offset == nullptr) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), offset);
  }
  return list;
}

PyMethodDef run_merger_methods[] = {
    {"read", reinterpret_cast<PyCFunction>(RunMergerRead), METH_VARARGS,
     "read(size) -> the next merged whole lines (about size bytes), b'' at the end"},
    {nullptr, nullptr, 0, nullptr},
};

PyTypeObject run_merger_type = {PyVarObject_HEAD_INIT(nullptr, 0)};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_blockmatch",
    "Block-at-a-time matching of log lines against an RE2 set; logcheck's sort order.", -1,
    module_methods,
};

// --- The grouped report's buckets (templates.TemplateMiner.add_block) -------
//
// Under -u every reported line is parsed into its syslog header's parts and
// put in a bucket with the lines of the same program whose messages are the
// same but for digits and hexadecimal letters; a bucket's lines are then
// read by one regular expression (templates.py).  In Python the parsing alone
// costs more than matching the line against every rule, so it is done here.
// The parse is syslogline._LINES's, decided the way its backtracking decides
// (templates.buckets() is the Python twin; the tests compare the two).

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

inline bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

struct Header {
  std::string_view stamp, host, program, message;
};

// Where `stamp` of _HEADER_PATTERN ends in line[0, length), followed by a
// space, or 0 when the line does not start with one.
Py_ssize_t StampEnd(const char* s, Py_ssize_t n) {
  auto digits = [&](Py_ssize_t at, int count) {
    for (int i = 0; i < count; i++) {
      if (at + i >= n || !IsDigit(s[at + i])) return false;
    }
    return true;
  };
  auto at_is = [&](Py_ssize_t at, char c) { return at < n && s[at] == c; };
  Py_ssize_t end = 0;
  if (n >= 15 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'a' && s[1] <= 'z' && s[2] >= 'a' &&
      s[2] <= 'z' && s[3] == ' ' && (s[4] == ' ' || IsDigit(s[4])) && IsDigit(s[5]) &&
      s[6] == ' ' && digits(7, 2) && s[9] == ':' && digits(10, 2) && s[12] == ':' &&
      digits(13, 2)) {
    end = 15;  // Nov 21 07:44:38
  } else if (digits(0, 4) && at_is(4, '-') && digits(5, 2) && at_is(7, '-') && digits(8, 2) &&
             at_is(10, 'T')) {
    end = 11;  // 2026-11-21T07:44:38.123456+00:00
    while (end < n && (IsDigit(s[end]) || s[end] == ':' || s[end] == '.')) end++;
    if (end == 11) return 0;
    if (at_is(end, 'Z')) {
      end++;
    } else if ((at_is(end, '+') || at_is(end, '-')) && digits(end + 1, 2)) {
      // the zone's ':' is taken when there is one; then it must be complete
      end = at_is(end + 3, ':') ? (digits(end + 4, 2) ? end + 6 : 0)
                                : (digits(end + 3, 2) ? end + 5 : 0);
      if (end == 0) return 0;
    }
  } else {
    return 0;
  }
  return at_is(end, ' ') ? end : 0;
}

// After a program name: `(?:\[[0-9]+\])?:(?= |$)`; where the message's
// optional space starts, or -1.
Py_ssize_t AfterColon(const char* s, Py_ssize_t n, Py_ssize_t at) {
  if (at < n && s[at] == '[') {
    Py_ssize_t j = at + 1;
    while (j < n && IsDigit(s[j])) j++;
    if (j > at + 1 && j < n && s[j] == ']') at = j + 1;
  }
  if (at < n && s[at] == ':' && (at + 1 == n || s[at + 1] == ' ')) return at + 1;
  return -1;
}

Header ParseHeader(const char* s, Py_ssize_t n) {
  Header header{{}, {}, {}, std::string_view(s, static_cast<size_t>(n))};
  Py_ssize_t stamp_end = StampEnd(s, n);
  if (stamp_end == 0) return header;
  Py_ssize_t host_start = stamp_end + 1, host_end = host_start;
  while (host_end < n && s[host_end] != ' ') host_end++;
  if (host_end == host_start) return header;
  header.stamp = std::string_view(s, static_cast<size_t>(stamp_end));
  header.host = std::string_view(s + host_start, static_cast<size_t>(host_end - host_start));
  Py_ssize_t message = host_end < n ? host_end + 1 : n;  // ` ?` when there is no program
  if (host_end < n) {
    // `[^ \[:]+(?:\([^ )]*\))?`, then the pid and the colon: the longest
    // run first, then shorter ones ending before a '(' whose group closes.
    Py_ssize_t start = host_end + 1, run_end = start;
    while (run_end < n && s[run_end] != ' ' && s[run_end] != '[' && s[run_end] != ':') run_end++;
    Py_ssize_t program_end = -1, after = -1;
    if (run_end > start) {
      after = AfterColon(s, n, run_end);
      if (after >= 0) program_end = run_end;
      for (Py_ssize_t open = run_end - 1; program_end < 0 && open > start; open--) {
        if (s[open] != '(') continue;
        Py_ssize_t close = open + 1;
        while (close < n && s[close] != ' ' && s[close] != ')') close++;
        if (close < n && s[close] == ')') {
          after = AfterColon(s, n, close + 1);
          if (after >= 0) program_end = close + 1;
        }
      }
    }
    if (program_end >= 0) {
      header.program = std::string_view(s + start, static_cast<size_t>(program_end - start));
      message = after < n && s[after] == ' ' ? after + 1 : after;
    }
  }
  header.message = std::string_view(s + message, static_cast<size_t>(n - message));
  return header;
}

PyObject* Bytes(std::string_view text) {
  return PyBytes_FromStringAndSize(text.data(), static_cast<Py_ssize_t>(text.size()));
}

// bucket_lines(text) -> [(program, key, indices, stamps, hosts, messages), ...]
// text: lines joined by newlines, a final newline or not.  One entry per
// bucket, in the order of (program + b"\n" + key); key is the message
// without its digits and hexadecimal letters; indices, stamps and hosts are
// tuples with an item per line (b"" where the header has none); messages,
// the bucket's messages joined by newlines.
PyObject* BucketLines(PyObject*, PyObject* args) {
  Py_buffer block;
  if (!PyArg_ParseTuple(args, "y*", &block)) return nullptr;
  const char* text = static_cast<const char*>(block.buf);
  Py_ssize_t length = block.len;
  if (length > 0 && text[length - 1] == '\n') length--;
  std::vector<Header> headers;
  // Each line's bucket name (program, newline, key) in one arena, reserved
  // whole so that the views into it stay valid: a name is at most its line
  // and a newline.
  std::string arena;
  std::unordered_map<std::string_view, size_t> bucket_of;
  std::vector<std::pair<std::string_view, std::vector<size_t>>> buckets;
  Py_BEGIN_ALLOW_THREADS
  arena.resize(2 * static_cast<size_t>(length) + 2);
  char* out = arena.data();  // written through a pointer: no check per byte
  for (Py_ssize_t start = 0;;) {
    const char* newline = static_cast<const char*>(
        memchr(text + start, '\n', static_cast<size_t>(length - start)));
    Py_ssize_t end = newline != nullptr ? newline - text : length;
    headers.push_back(ParseHeader(text + start, end - start));
    const Header& header = headers.back();
    const char* name_start = out;
    memcpy(out, header.program.data(), header.program.size());
    out += header.program.size();
    *out++ = '\n';
    for (char c : header.message) {
      *out = c;
      out += !IsHexDigit(c);
    }
    std::string_view name(name_start, static_cast<size_t>(out - name_start));
    auto found = bucket_of.emplace(name, buckets.size());
    if (found.second) buckets.emplace_back(name, std::vector<size_t>());
    buckets[found.first->second].second.push_back(headers.size() - 1);
    if (newline == nullptr) break;
    start = end + 1;
  }
  std::sort(buckets.begin(), buckets.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  Py_END_ALLOW_THREADS
  // A block has few hosts: one bytes object each.
  std::vector<std::pair<std::string_view, PyObject*>> host_objects;
  auto host_object = [&](std::string_view host) -> PyObject* {
    for (auto& known : host_objects) {
      if (known.first == host) {
        Py_INCREF(known.second);
        return known.second;
      }
    }
    PyObject* object = Bytes(host);
    if (object != nullptr && host_objects.size() < 64) {
      Py_INCREF(object);
      host_objects.emplace_back(host, object);
    }
    return object;
  };
  PyObject* result = PyList_New(0);
  for (size_t number = 0; result != nullptr && number < buckets.size(); number++) {
    const std::string_view name = buckets[number].first;
    const std::vector<size_t>& members = buckets[number].second;
    const Py_ssize_t count = static_cast<Py_ssize_t>(members.size());
    const Header& head = headers[members[0]];
    std::string messages;
    size_t size = 0;
    for (size_t member : members) size += headers[member].message.size() + 1;
    messages.reserve(size);
    PyObject* indices = PyTuple_New(count);
    PyObject* stamps = PyTuple_New(count);
    PyObject* hosts = PyTuple_New(count);
    bool failed = indices == nullptr || stamps == nullptr || hosts == nullptr;
    for (Py_ssize_t slot = 0; !failed && slot < count; slot++) {
      const Header& header = headers[members[static_cast<size_t>(slot)]];
      PyObject* index = PyLong_FromSize_t(members[static_cast<size_t>(slot)]);
      PyObject* stamp = Bytes(header.stamp);
      PyObject* host = host_object(header.host);
      if (index == nullptr || stamp == nullptr || host == nullptr) {
        Py_XDECREF(index);
        Py_XDECREF(stamp);
        Py_XDECREF(host);
        failed = true;
        break;
      }
      PyTuple_SET_ITEM(indices, slot, index);
      PyTuple_SET_ITEM(stamps, slot, stamp);
      PyTuple_SET_ITEM(hosts, slot, host);
      if (slot > 0) messages.push_back('\n');
      messages.append(header.message);
    }
    PyObject* entry = failed ? nullptr : Py_BuildValue(
        "(Ny#OOOy#)", Bytes(head.program),  // (y# makes None of a null pointer)
        name.data() + head.program.size() + 1,
        static_cast<Py_ssize_t>(name.size() - head.program.size() - 1), indices, stamps,
        hosts, messages.data(), static_cast<Py_ssize_t>(messages.size()));
    Py_XDECREF(indices);
    Py_XDECREF(stamps);
    Py_XDECREF(hosts);
    if (entry == nullptr || PyList_Append(result, entry) < 0) {
      Py_XDECREF(entry);
      Py_CLEAR(result);
      break;
    }
    Py_DECREF(entry);
  }
  for (auto& known : host_objects) Py_DECREF(known.second);
  PyBuffer_Release(&block);
  return result;
}

// The earliest and the latest of a group's time stamps, as syslogline's
// time_bounds() finds them with min() and max() on time_key: classic stamps
// (by month, then the rest of their text) before RFC 3339 ones (by their
// text); the first of equal ones.  A group of an unordered log holds stamps
// of several months and both forms, where time_key would be called on every
// one of them.
struct TimeKey {
  int form;  // 0 classic, 1 RFC 3339
  int month;  // 1 to 12, 0 unknown
  std::string_view rest;
};

TimeKey KeyOf(std::string_view stamp) {
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (IsDigit(stamp[0])) return {1, 0, stamp};
  int month = 0;
  for (int number = 0; stamp.size() >= 3 && number < 12 && month == 0; number++) {
    if (stamp.compare(0, 3, kMonths[number]) == 0) month = number + 1;
  }
  return {0, month, stamp.size() > 4 ? stamp.substr(4) : std::string_view()};
}

bool Earlier(const TimeKey& a, const TimeKey& b) {
  if (a.form != b.form) return a.form < b.form;
  if (a.month != b.month) return a.month < b.month;
  return a.rest < b.rest;
}

// time_bounds(stamps) -> (earliest, latest) or None; empty stamps are skipped.
PyObject* TimeBounds(PyObject*, PyObject* args) {
  PyObject* stamps_object;
  if (!PyArg_ParseTuple(args, "O", &stamps_object)) return nullptr;
  PyObject* stamps = PySequence_Fast(stamps_object, "stamps must be a sequence");
  if (stamps == nullptr) return nullptr;
  PyObject *earliest = nullptr, *latest = nullptr;
  TimeKey earliest_key{}, latest_key{};
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(stamps); i++) {
    PyObject* stamp = PySequence_Fast_GET_ITEM(stamps, i);
    if (!PyBytes_Check(stamp)) {
      Py_DECREF(stamps);
      PyErr_SetString(PyExc_TypeError, "a time stamp must be bytes");
      return nullptr;
    }
    if (PyBytes_GET_SIZE(stamp) == 0) continue;
    TimeKey key = KeyOf(std::string_view(PyBytes_AS_STRING(stamp),
                                         static_cast<size_t>(PyBytes_GET_SIZE(stamp))));
    if (earliest == nullptr || Earlier(key, earliest_key)) {
      earliest = stamp;
      earliest_key = key;
    }
    if (latest == nullptr || Earlier(latest_key, key)) {
      latest = stamp;
      latest_key = key;
    }
  }
  PyObject* result = earliest == nullptr ? (Py_INCREF(Py_None), Py_None)
                                         : Py_BuildValue("(OO)", earliest, latest);
  Py_DECREF(stamps);
  return result;
}

// --- A bucket's placeholder values, counted a column each --------------------
//
// Once a skeleton is known, templates.py reads a bucket's values with one
// regular expression over its lines (about 1 us a line in Python's re).  Here
// each line is split on white space and each token checked against the
// layout templates.py made from the sample line (templates._layout): a
// constant word must be equal; a placeholder's token must have the sample's
// prefix and suffix, and its value the sample's characters with only its
// runs of digits changed, each run within its bound.  templates._layout
// makes layouts only for values the regular expression would read the same
// way.  A line that does not fit answers None: templates.py reads the bucket
// with the regular expression.  The values are counted here (Tally).

struct Piece {
  bool run;             // a run of digits (or hexadecimal digits), or literal text
  std::string literal;
  bool hex;
  bool mixed;           // a hexadecimal run holds a digit and a letter
  Py_ssize_t least, most;  // the run's length, most 0 for any
};

struct Layout {
  bool constant;
  std::string text;     // the constant word
  std::string prefix, suffix;
  std::vector<Piece> core;
  size_t shorter_than;  // a token's length bound, 0 for none
};

// Whether `value` fits the pieces: the literals, and runs of digits in bounds.
bool Fits(std::string_view value, const std::vector<Piece>& pieces) {
  size_t at = 0;
  for (const Piece& piece : pieces) {
    if (!piece.run) {
      if (value.compare(at, piece.literal.size(), piece.literal) != 0) return false;
      at += piece.literal.size();
      continue;
    }
    size_t from = at, digits = 0;
    for (; at < value.size() && (piece.hex ? IsHexDigit(value[at]) : IsDigit(value[at])); at++)
      digits += IsDigit(value[at]);
    if (at - from < static_cast<size_t>(piece.least) ||
        (piece.most > 0 && at - from > static_cast<size_t>(piece.most)) ||
        (piece.mixed && (digits == 0 || digits == at - from)))
      return false;
  }
  return at == value.size();
}

bool ParseLayout(PyObject* item, Layout& layout) {
  PyObject *constant, *prefix, *suffix, *pieces;
  Py_ssize_t shorter_than;
  if (!PyArg_ParseTuple(item, "OSSOn", &constant, &prefix, &suffix, &pieces, &shorter_than))
    return false;
  layout.constant = constant != Py_None;
  if (layout.constant) {
    if (!PyBytes_Check(constant)) {
      PyErr_SetString(PyExc_TypeError, "a constant word must be bytes");
      return false;
    }
    layout.text.assign(PyBytes_AS_STRING(constant), static_cast<size_t>(PyBytes_GET_SIZE(constant)));
  }
  layout.prefix.assign(PyBytes_AS_STRING(prefix), static_cast<size_t>(PyBytes_GET_SIZE(prefix)));
  layout.suffix.assign(PyBytes_AS_STRING(suffix), static_cast<size_t>(PyBytes_GET_SIZE(suffix)));
  layout.shorter_than = static_cast<size_t>(std::max<Py_ssize_t>(shorter_than, 0));
  PyObject* sequence = PySequence_Fast(pieces, "pieces must be a sequence");
  if (sequence == nullptr) return false;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(sequence); i++) {
    PyObject* piece = PySequence_Fast_GET_ITEM(sequence, i);
    if (PyBytes_Check(piece)) {
      layout.core.push_back({false, std::string(PyBytes_AS_STRING(piece),
                                                static_cast<size_t>(PyBytes_GET_SIZE(piece))),
                             false, false, 0, 0});
      continue;
    }
    int digits;
    Py_ssize_t least, most;
    if (!PyArg_ParseTuple(piece, "inn", &digits, &least, &most)) {
      Py_DECREF(sequence);
      return false;
    }
    layout.core.push_back({true, std::string(), digits != 0, digits == 2,
                           std::max<Py_ssize_t>(least, 1), most});
  }
  Py_DECREF(sequence);
  return true;
}

// A column's values with their counts, in the order first seen (the order
// Counter.update gives a list of them): counted here, the values a column
// repeats become Python objects once, and those seen once (most ports, pids
// and ids) not at all when they travel joined (split).
class Tally {
 public:
  void Add(std::string_view value) {
    // Open addressing over the values' numbers: no allocation per value
    // (std::unordered_map's node each took a tenth of a grouped run).
    if (2 * (counted_.size() + 1) > slots_.size()) Grow();
    size_t mask = slots_.size() - 1;
    for (size_t slot = std::hash<std::string_view>()(value) & mask;; slot = (slot + 1) & mask) {
      size_t number = slots_[slot];
      if (number == 0) {
        counted_.emplace_back(value, 1);
        slots_[slot] = counted_.size();
        return;
      }
      if (counted_[number - 1].first == value) {
        counted_[number - 1].second++;
        return;
      }
    }
  }

  // {value: count}, of every value or only of those seen more than once.
  PyObject* Counts(bool repeated_only) const {
    PyObject* counts = PyDict_New();
    for (size_t i = 0; counts != nullptr && i < counted_.size(); i++) {
      if (repeated_only && counted_[i].second == 1) continue;
      PyObject* value = Bytes(counted_[i].first);
      PyObject* count = value != nullptr ? PyLong_FromSsize_t(counted_[i].second) : nullptr;
      if (count == nullptr || PyDict_SetItem(counts, value, count) < 0) Py_CLEAR(counts);
      Py_XDECREF(value);
      Py_XDECREF(count);
    }
    return counts;
  }

  // templates._portable's form: (values seen once joined by newlines, how
  // many, {value: count} of the others).
  PyObject* Portable() const {
    Py_ssize_t once = 0;
    size_t size = 0;
    for (const auto& [value, count] : counted_) {
      if (count == 1) {
        size += value.size() + (once > 0);
        once++;
      }
    }
    PyObject* joined = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(size));
    if (joined == nullptr) return nullptr;
    char* out = PyBytes_AS_STRING(joined);
    Py_ssize_t written = 0;
    for (const auto& [value, count] : counted_) {
      if (count != 1) continue;
      if (written++ > 0) *out++ = '\n';  // between values, as b"\n".join()
      memcpy(out, value.data(), value.size());
      out += value.size();
    }
    PyObject* repeated = Counts(true);
    if (repeated == nullptr) {
      Py_DECREF(joined);
      return nullptr;
    }
    return Py_BuildValue("(NnN)", joined, once, repeated);
  }

 private:
  void Grow() {
    slots_.assign(std::max<size_t>(64, 2 * slots_.size()), 0);
    size_t mask = slots_.size() - 1;
    for (size_t number = 1; number <= counted_.size(); number++) {
      size_t slot = std::hash<std::string_view>()(counted_[number - 1].first) & mask;
      while (slots_[slot] != 0) slot = (slot + 1) & mask;
      slots_[slot] = number;
    }
  }

  std::vector<size_t> slots_;  // 1 + a value's place in counted_, 0 for none
  std::vector<std::pair<std::string_view, Py_ssize_t>> counted_;
};

// bucket_counts(messages, lines, layout, split) -> [{value: count}, ...] or None
// messages: a bucket's messages joined by newlines; layout: a tuple with an
// item per token of a line: (the constant word or None, prefix, suffix,
// pieces of the value: literal bytes, or a run (its digits: 0 decimal, 1
// hexadecimal, 2 hexadecimal with a decimal digit and a letter; least, most
// characters, most 0 for any), bound on the token's length or 0).  The
// values of each placeholder, in order, counted (Tally::Counts), or with
// `split` in templates._portable's form (Tally::Portable).
PyObject* BucketCounts(PyObject*, PyObject* args) {
  Py_buffer block;
  Py_ssize_t lines;
  PyObject* layout_object;
  int split;
  if (!PyArg_ParseTuple(args, "y*nOp", &block, &lines, &layout_object, &split)) return nullptr;
  std::vector<Layout> layout;
  PyObject* sequence = PySequence_Fast(layout_object, "layout must be a sequence");
  if (sequence == nullptr) {
    PyBuffer_Release(&block);
    return nullptr;
  }
  layout.resize(static_cast<size_t>(PySequence_Fast_GET_SIZE(sequence)));
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(sequence); i++) {
    if (!ParseLayout(PySequence_Fast_GET_ITEM(sequence, i), layout[static_cast<size_t>(i)])) {
      Py_DECREF(sequence);
      PyBuffer_Release(&block);
      return nullptr;
    }
  }
  Py_DECREF(sequence);
  size_t variables = 0;
  for (const Layout& item : layout) variables += !item.constant;
  std::vector<Tally> columns(variables);
  bool fits = true;
  Py_BEGIN_ALLOW_THREADS
  const char* data = static_cast<const char*>(block.buf);
  size_t size = static_cast<size_t>(block.len);
  Py_ssize_t seen = 0;
  size_t start = 0;
  while (fits) {
    const void* found = memchr(data + start, '\n', size - start);
    size_t end = found != nullptr ? static_cast<size_t>(static_cast<const char*>(found) - data) : size;
    std::string_view line(data + start, end - start);
    // Tokens as bytes.split() cuts them: its white space is the six bytes
    // IsTrailingSpace() knows (no newline inside a line).
    size_t at = 0, token = 0, column = 0;
    for (;;) {
      while (at < line.size() && IsTrailingSpace(line[at])) at++;
      if (at == line.size()) break;
      size_t from = at;
      while (at < line.size() && !IsTrailingSpace(line[at])) at++;
      std::string_view word = line.substr(from, at - from);
      if (token == layout.size()) {
        fits = false;
        break;
      }
      const Layout& item = layout[token++];
      if (item.constant) {
        fits = word == item.text;
      } else {
        size_t outer = item.prefix.size() + item.suffix.size();
        fits = word.size() >= outer && (item.shorter_than == 0 || word.size() < item.shorter_than)
               && word.compare(0, item.prefix.size(), item.prefix) == 0
               && word.compare(word.size() - item.suffix.size(), item.suffix.size(), item.suffix) == 0;
        std::string_view value = fits ? word.substr(item.prefix.size(), word.size() - outer)
                                      : std::string_view();
        fits = fits && Fits(value, item.core);
        if (fits) columns[column++].Add(value);
      }
      if (!fits) break;
    }
    if (token != layout.size()) fits = false;
    seen++;
    if (found == nullptr) break;
    start = end + 1;
  }
  if (seen != lines) fits = false;
  Py_END_ALLOW_THREADS
  PyObject* result = nullptr;
  if (!fits) {
    Py_INCREF(Py_None);
    result = Py_None;
  } else {
    result = PyList_New(static_cast<Py_ssize_t>(variables));
    for (size_t i = 0; result != nullptr && i < variables; i++) {
      PyObject* counted = split ? columns[i].Portable() : columns[i].Counts(false);
      if (counted == nullptr) {
        Py_CLEAR(result);
        break;
      }
      PyList_SET_ITEM(result, static_cast<Py_ssize_t>(i), counted);
    }
  }
  PyBuffer_Release(&block);
  return result;
}

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
  run_merger_type.tp_name = "logsieve._blockmatch.RunMerger";
  run_merger_type.tp_basicsize = sizeof(RunMergerObject);
  run_merger_type.tp_flags = Py_TPFLAGS_DEFAULT;
  run_merger_type.tp_doc =
      "RunMerger(fd, runs, buffer_size, strip=False): sorted runs (offset, length) of a file, "
      "merged stably, lines stripped of trailing white space with strip.";
  run_merger_type.tp_new = PyType_GenericNew;
  run_merger_type.tp_init = reinterpret_cast<initproc>(RunMergerInit);
  run_merger_type.tp_dealloc = reinterpret_cast<destructor>(RunMergerDealloc);
  run_merger_type.tp_methods = run_merger_methods;
  if (PyType_Ready(&run_merger_type) < 0) return nullptr;
  PyObject* module = PyModule_Create(&module_def);
  if (module == nullptr) return nullptr;
  Py_INCREF(&rule_set_type);
  if (PyModule_AddObject(module, "RuleSet", reinterpret_cast<PyObject*>(&rule_set_type)) < 0) {
    Py_DECREF(&rule_set_type);
    Py_DECREF(module);
    return nullptr;
  }
  Py_INCREF(&run_merger_type);
  if (PyModule_AddObject(module, "RunMerger", reinterpret_cast<PyObject*>(&run_merger_type)) < 0) {
    Py_DECREF(&run_merger_type);
    Py_DECREF(module);
    return nullptr;
  }
  return module;
}
