"""Code compressor: one realistic file per language, with what must stay and what must go."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom_core import HeadroomConfig, compress, count_tokens, retrieve
from headroom_core._markers import find_markers
from headroom_core.compressors import CompressContext
from headroom_core.compressors._code import CodeCompressor, parses_cleanly

from .test_code_corpus import new_error_lines

SAMPLE_DIR = Path(__file__).parent / "code_samples"
SAMPLES = {p.stem: p.read_text("utf-8") for p in sorted(SAMPLE_DIR.iterdir())}
REF = "hr_" + "a" * 20


@dataclass(frozen=True)
class Case:
    language: str
    query: str
    kept: tuple[str, ...]  # substrings that must survive (signatures, fields, relevant body)
    elided: tuple[str, ...]  # substrings of bodies that must be gone


CASES = [
    Case(
        "python",
        "How does acquire wait for tokens?",
        (
            "DEFAULT_RATE = 10.0",
            "    def __init__(self, rate: float = DEFAULT_RATE, burst: int = MAX_BURST) -> None:",
            "    def acquire(self, tokens: float = 1.0, *, timeout: float | None = None) -> bool:",
            "                wait = (tokens - self._tokens) / self._rate",
            "    @property\n    def state(self) -> BucketState:",
            "    tokens: float\n    updated: float",
            '"""Token bucket rate limiting for outgoing HTTP calls.',
        ),
        ("self._lock = threading.Lock()", "The bucket refills continuously"),
    ),
    Case(
        "javascript",
        "How is debounce implemented?",
        (
            "var VERSION = '1.4.2';",
            "function debounce(func, wait, immediate) {",
            "      timeout = setTimeout(later, wait);",
            "function throttle(func, wait) {",
            "  get size() {",
        ),
        ("previous = now;", "this.items.push(item);"),
    ),
    Case(
        "typescript",
        "What does retryWithBackoff do between attempts?",
        (
            "export const MAX_ATTEMPTS = 5;",
            "export interface RetryOptions {",
            "  maxDelayMs?: number;",
            "export async function retryWithBackoff<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {",
            "      await sleep(delay);",
            "   * @default 100",
            "  return new Promise((resolve) => setTimeout(resolve, ms));",  # called by it
        ),
        ("this.failures = 0;", "Doubles after every failed attempt."),
    ),
    Case(
        "tsx",
        "How does the SearchBox handle submit?",
        (
            "export function SearchBox({ onSearch, placeholder }: SearchBoxProps) {",
            "    onSearch(query.trim());",
            "export function ResultList({ items }: { items: string[] }) {",
            "  placeholder?: string;",
        ),
        ("<li key={item}>{item}</li>",),
    ),
    Case(
        "go",
        "How does ParseDuration handle units?",
        (
            'const maxUnits = "hms"',
            "type Span struct {",
            "\tStart time.Time",
            "func ParseDuration(s string) (time.Duration, error) {",
            "\t\tcase 'h':",
            "func (s *Span) Len() time.Duration {",
        ),
        ("return s.End.Sub(s.Start)", "sort.Slice(spans"),
    ),
    Case(
        "rust",
        "How does try_push reject a full queue?",
        (
            "pub const DEFAULT_CAPACITY: usize = 64;",
            "pub struct BoundedQueue<T> {",
            "    items: VecDeque<T>,",
            "    pub fn try_push(&mut self, item: T) -> Result<(), QueueFull<T>> {",
            "            return Err(QueueFull(item));",
            "    pub fn pop(&mut self) -> Option<T> {",
            "/// A fixed-capacity FIFO queue.",
        ),
        ("self.items.pop_front()", "Use it to apply backpressure"),
    ),
    Case(
        "java",
        "How does register reject duplicate plugins?",
        (
            "private static final int MAX_PLUGINS = 32;",
            "private final Map<String, Plugin> plugins = new HashMap<>();",
            "public void register(String name, Plugin plugin) {",
            'throw new IllegalStateException("duplicate plugin: " + name);',
            "public Collection<Plugin> all() {",
        ),
        ("return Collections.unmodifiableCollection(plugins.values());",),
    ),
    Case(
        "c",
        "How does ring_push handle a full buffer?",
        (
            "#define RING_SIZE 256",
            "struct ring {",
            "\tunsigned int head;",
            "int ring_push(struct ring *r, unsigned char byte)",
            "\t\treturn -1;",
            "int ring_pop(struct ring *r, unsigned char *out)",
        ),
        ("*out = r->buf[r->tail];",),
    ),
    Case(
        "cpp",
        "How does LruCache::put evict entries?",
        (
            "constexpr std::size_t kDefaultCapacity = 128;",
            "template <typename K, typename V>",
            "class LruCache {",
            "  void put(const K& key, V value) {",
            "      index_.erase(order_.back().first);",
            "  std::optional<V> get(const K& key) {",
            "  std::size_t capacity_;",
        ),
        ("order_.splice(order_.begin(), order_, it->second);",),
    ),
]

EXTRA_LANGUAGES = ["csharp", "ruby", "php", "kotlin", "swift", "scala", "lua"]


def _run(source: str, language: str, query: str | None, share: float = 1.0) -> str:
    n = count_tokens(source)
    ctx = CompressContext(
        ref=REF,
        config=HeadroomConfig(),
        count_tokens=count_tokens,
        original_tokens=n,
        budget=int(n * share),
        query=query,
        language=language,
    )
    return CodeCompressor().compress(source, ctx).text


def _placeholder_lines(text: str) -> int:
    return sum(
        int(n)
        for n in re.findall(r"(\d+) lines omitted \*/|# (\d+) lines omitted", text)
        for n in n
        if n
    )


@pytest.mark.parametrize("case", CASES, ids=[c.language for c in CASES])
def test_language_table(case: Case) -> None:
    source = SAMPLES[case.language]
    assert parses_cleanly(source, case.language)
    out = _run(source, case.language, case.query)
    assert parses_cleanly(out, case.language), out
    for kept in case.kept:
        assert kept in out, f"{kept!r} missing from:\n{out}"
    for gone in case.elided:
        assert gone not in out, f"{gone!r} should be elided:\n{out}"
    markers = find_markers(out)
    assert len(markers) == 1 and markers[0].ref == REF and markers[0].unit == "lines"
    assert markers[0].count >= _placeholder_lines(out) > 0
    assert count_tokens(out) < count_tokens(source)


@pytest.mark.parametrize("language", EXTRA_LANGUAGES)
def test_more_languages_elide_and_parse(language: str) -> None:
    source = SAMPLES[language]
    assert parses_cleanly(source, language)
    out = _run(source, language, None)
    assert parses_cleanly(out, language), out
    assert "lines omitted" in out
    assert count_tokens(out) < count_tokens(source)


def test_signature_lines_stay_byte_identical() -> None:
    source = SAMPLES["python"]
    out = _run(source, "python", None, share=0.2)
    for line in source.splitlines():
        if line.lstrip().startswith(("def ", "class ", "@")):
            assert line in out.splitlines()


def test_over_budget_comments_keep_only_tags() -> None:
    out = _run(SAMPLES["typescript"], "typescript", None, share=0.05)
    assert "   * @default 100" in out
    assert "Base delay before the first retry" not in out
    assert parses_cleanly(out, "typescript")


def test_nested_function_signatures_survive() -> None:
    source = (
        "import functools\n\n\n"
        "def retry(times: int = 3):\n"
        '    """Retry the wrapped call up to ``times`` times."""\n'
        "    attempts = []\n"
        "    delays = [0.1 * 2**i for i in range(times)]\n\n"
        "    def decorate(fn):\n"
        "        @functools.wraps(fn)\n"
        "        def wrapper(*args, **kwargs):\n"
        "            for delay in delays:\n"
        "                try:\n"
        "                    return fn(*args, **kwargs)\n"
        "                except OSError as exc:\n"
        "                    attempts.append((delay, exc))\n"
        "            raise RuntimeError(f'gave up after {len(attempts)} attempts')\n\n"
        "        return wrapper\n\n"
        "    return decorate\n"
    )
    out = _run(source, "python", None, share=0.2)
    assert "    def decorate(fn):" in out
    assert "        @functools.wraps(fn)\n        def wrapper(*args, **kwargs):" in out
    assert '    """Retry the wrapped call up to ``times`` times."""' in out
    assert "attempts.append((delay, exc))" not in out
    assert parses_cleanly(out, "python"), out


def test_wrapper_function_is_walked_into() -> None:
    body = "\n".join(
        f"  function helper{i}(a, b) {{\n    var x = a + b;\n    return x * {i};\n  }}"
        for i in range(20)
    )
    source = f"(function (root) {{\n  var VERSION = '2.0';\n{body}\n}}(this));\n"
    out = _run(source, "javascript", None, share=0.3)
    assert "  var VERSION = '2.0';" in out
    assert "  function helper7(a, b) { /* 2 lines omitted */ }" in out
    assert parses_cleanly(out, "javascript")


def test_unparsable_original_keeps_its_errors_and_adds_none() -> None:
    source = SAMPLES["c"].replace("int ring_pop(", "int ring_pop(MACRO_ATTR(x) ) ) ", 1)
    assert not parses_cleanly(source, "c")
    out = _run(source, "c", None)
    assert new_error_lines(source, out, "c") == [], out
    assert "#define RING_SIZE 256" in out
    assert "/* " in out and "lines omitted */ }" in out  # bodies elsewhere still go
    assert not any(ln.startswith("// ") for ln in out.split("\n")[1:])


def _macro_header(n: int) -> str:
    """A C++ header written like the standard library's: macros the grammar cannot expand."""
    parts = [
        "#ifndef _RING_H\n#define _RING_H 1\n\nnamespace std _GLIBCXX_VISIBILITY(default)\n{\n"
        "_GLIBCXX_BEGIN_NAMESPACE_VERSION\n\n  template<typename _Tp, typename _Alloc>\n"
        "    struct _Ring_base\n    {\n      typedef _Alloc allocator_type;\n\n"
    ]
    for i in range(n):
        parts.append(
            f"      // Grow the ring by step {i}.\n      _GLIBCXX20_CONSTEXPR\n      size_t\n"
            f"      _M_grow_{i}(size_t __n) _GLIBCXX_NOEXCEPT\n      {{\n"
            f"\tsize_t __len = __n * {i + 2};\n\tif (__len > max_size())\n"
            f'\t  __throw_length_error(__N("ring::_M_grow_{i}"));\n\treturn __len;\n      }}\n\n'
        )
    parts.append("    };\n\n_GLIBCXX_END_NAMESPACE_VERSION\n} // namespace std\n#endif\n")
    return "".join(parts)


def test_macro_header_is_elided_not_commented_out() -> None:
    source = _macro_header(30)
    assert not parses_cleanly(source, "cpp")
    out = _run(source, "cpp", "How does _M_grow_7 check the length?")
    assert new_error_lines(source, out, "cpp") == [], out
    assert not any(ln.startswith("// ") for ln in out.split("\n")[1:]), out
    assert "      _M_grow_12(size_t __n) _GLIBCXX_NOEXCEPT\n      { /* 4 lines omitted */ }" in out
    assert '\t  __throw_length_error(__N("ring::_M_grow_7"));' in out
    assert count_tokens(out) < count_tokens(source) * 0.75


def test_unknown_language_gives_line_outline() -> None:
    source = "\n".join(f"section{i}:\n    step one {i}\n    step two {i}" for i in range(40))
    out = _run(source, "cobol-ish", None)
    assert "section7:" in out and "step one 7" not in out
    assert find_markers(out)[0].count == 80


def test_compress_end_to_end_roundtrip() -> None:
    source = SAMPLES["go"] * 3  # big enough to compress
    result = compress(source, query="ParseDuration units", path="span.go")
    assert result.kind == "code" and result.ref is not None
    assert result.compressed_tokens < result.original_tokens
    assert retrieve(result.ref) == source
    assert parses_cleanly(result.text, "go") or "unparsable" in " ".join(result.notes)


def test_deterministic() -> None:
    source = SAMPLES["rust"]
    assert _run(source, "rust", "try_push") == _run(source, "rust", "try_push")


@pytest.mark.parametrize(
    ("language", "source"),
    [
        (
            "python",
            "def lookup(code):\n    return TABLE[code]\n\n\nTABLE = {\n"
            + "".join(f"    'k{i}': {i},\n" for i in range(60))
            + "}\n",
        ),
        (
            "go",
            "package t\n\nvar table = [64]bool{\n"
            + "".join(f"\t{i}: true,\n" for i in range(60))
            + "}\n",
        ),
        (
            "javascript",
            "const TABLE = [\n" + "".join(f"  'entry-{i}',\n" for i in range(60)) + "];\n",
        ),
    ],
)
def test_long_data_tables_go_when_still_over_budget(language: str, source: str) -> None:
    out = _run(source, language, None, share=0.1)
    assert "lines omitted" in out
    assert count_tokens(out) < count_tokens(source) // 3
    assert parses_cleanly(out, language), out


@pytest.mark.parametrize(
    ("detected", "sample", "actual"), [("typescript", "tsx", "tsx"), ("c", "cpp", "cpp")]
)
def test_sibling_grammar_when_detection_is_close(detected: str, sample: str, actual: str) -> None:
    source = SAMPLES[sample]
    n = count_tokens(source)
    ctx = CompressContext(
        ref=REF,
        config=HeadroomConfig(),
        count_tokens=count_tokens,
        original_tokens=n,
        budget=n,
        language=detected,
    )
    result = CodeCompressor().compress(source, ctx)
    assert result.language == actual
    assert parses_cleanly(result.text, actual)
    assert "lines omitted */ }" in result.text


@settings(max_examples=40, deadline=None)
@given(
    language=st.sampled_from(sorted(SAMPLES)),
    cut=st.tuples(st.integers(0, 60), st.integers(0, 60)),
    query=st.one_of(st.none(), st.text(max_size=30)),
)
def test_any_slice_compresses_without_new_parse_errors(
    language: str, cut: tuple[int, int], query: str | None
) -> None:
    lines = SAMPLES[language].splitlines(keepends=True)
    start, length = cut
    source = "".join(lines[start : start + length])  # often not valid code on its own
    out = _run(source, language, query, share=0.3)
    assert out == source or new_error_lines(source, out, language) == [], out
    if parses_cleanly(source, language):
        assert parses_cleanly(out, language), out
    assert len(find_markers(out)) <= 1


def _rust_with_trait_impls() -> str:
    """A serializer-like Rust file: one inherent impl, many trait impls of one-line methods."""
    kinds = ["bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "char"]
    parts = [
        "use std::io;\n\npub struct Writer<W> {\n    out: W,\n    depth: usize,\n}\n\n"
        "impl<W: io::Write> Writer<W> {\n"
        "    /// Creates a writer over `out`.\n"
        "    pub fn new(out: W) -> Self {\n        Writer { out, depth: 0 }\n    }\n\n"
        "    pub fn into_inner(self) -> W {\n        self.out\n    }\n}\n"
    ]
    for target in ("Compact", "Pretty", "KeyOnly", "Escaped"):
        parts.append(f"\nimpl<'a, W: io::Write> Emit for {target}Emitter<'a, W> {{\n")
        for k in kinds:
            parts.append(
                f"    fn emit_{k}(self, value: {k}) -> Result<()> {{\n"
                f"        self.inner.write_{k}(value)\n    }}\n\n"
            )
        parts.append("}\n")
    parts.append(
        "\nimpl<W: io::Write> fmt::Debug for Writer<W> {\n"
        "    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {\n"
        '        f.debug_struct("Writer").field("depth", &self.depth).finish()\n'
        "    }\n}\n"
    )
    return "".join(parts)


def test_over_budget_trait_impls_collapse_whole() -> None:
    source = _rust_with_trait_impls()
    out = _run(source, "rust", "How do emitters write values out?", share=0.4)
    assert parses_cleanly(out, "rust"), out
    assert "    pub fn new(out: W) -> Self {" in out
    assert "impl<'a, W: io::Write> Emit for CompactEmitter<'a, W> {" in out
    assert "lines omitted; fn emit_bool, emit_i8, emit_i16," in out
    assert "fn emit_u64(self, value: u64)" not in out
    # a trait impl whose method is declared nowhere else stays longest
    assert "    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {" in out
    assert count_tokens(out) <= count_tokens(source) * 0.4
    assert "4 impl blocks whole" in find_markers(out)[0].detail


def test_short_bodies_stay_when_nothing_is_over_budget() -> None:
    source = _rust_with_trait_impls()
    out = _run(source, "rust", None, share=0.9)
    assert "    fn emit_u64(self, value: u64) -> Result<()> {\n" in out
    assert "impl blocks" not in out


def test_minified_one_line_bodies_are_elided() -> None:
    fns = "".join(
        f"function clamp{i}(v,lo,hi){{if(v<lo){{return lo}}if(v>hi){{return hi}}"
        f"for(var k=0;k<{i};k++){{v=v*0.5+lo}}return v}}"
        for i in range(40)
    )
    exports = ",".join(f"clamp{i}:clamp{i}" for i in range(40))
    source = f"!function(root){{'use strict';{fns}root.lib={{{exports}}}}}(this);\n"
    assert source.count("\n") == 1
    out = _run(source, "javascript", "How does clamp12 limit the value?", share=0.5)
    assert parses_cleanly(out, "javascript"), out
    assert "function clamp30(v,lo,hi){ /* " in out and " chars omitted */ }" in out
    assert "for(var k=0;k<12;k++){v=v*0.5+lo}" in out  # the body the query names stays
    assert "root.lib={clamp0:clamp0," in out
    marker = find_markers(out)[0]
    assert marker.unit == "chars" and marker.count > 1000
    assert count_tokens(out) <= count_tokens(source) * 0.5


GUARDED = '''"""Platform helpers."""
import os
import sys

try:
    import fcntl
except ImportError:
    def lock_file(fd: int, exclusive: bool = True) -> None:
        """Lock ``fd`` (no-op without fcntl)."""
        del fd, exclusive
        return None
else:
    def lock_file(fd: int, exclusive: bool = True) -> None:
        """Lock ``fd`` with flock."""
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        fcntl.flock(fd, mode)
        return None

if sys.platform == "win32":
    def home_dir(user: str | None = None) -> str:
        """The user's home directory on Windows."""
        base = os.environ.get("USERPROFILE", "C:\\\\Users")
        if user:
            return os.path.join(os.path.dirname(base), user)
        return base


def make_opener(mode: str):
    """An opener for ``mode``."""
    flags = os.O_RDONLY if mode == "r" else os.O_WRONLY | os.O_CREAT
    if sys.platform == "win32":
        def opener(path: str, extra: int = 0) -> int:
            fd = os.open(path, flags | extra | os.O_BINARY)
            lock_file(fd)
            return fd
    else:
        def opener(path: str, extra: int = 0) -> int:
            fd = os.open(path, flags | extra)
            lock_file(fd)
            return fd
    return opener
'''


@pytest.mark.parametrize("query", [None, "unrelated question about parsing"])
def test_definitions_under_if_try_with_keep_their_signatures(query: str | None) -> None:
    out = _run(GUARDED, "python", query, share=0.3)
    assert parses_cleanly(out, "python"), out
    for signature in (
        "except ImportError:\n    def lock_file(fd: int, exclusive: bool = True) -> None:",
        "else:\n    def lock_file(fd: int, exclusive: bool = True) -> None:",
        'if sys.platform == "win32":\n    def home_dir(user: str | None = None) -> str:',
        '    if sys.platform == "win32":\n        def opener(path: str, extra: int = 0) -> int:',
        "    else:\n        def opener(path: str, extra: int = 0) -> int:",
    ):
        assert signature in out, out
    assert "fcntl.flock(fd, mode)" not in out
    assert "fd = os.open(path, flags | extra | os.O_BINARY)" not in out
