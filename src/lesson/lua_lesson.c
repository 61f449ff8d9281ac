/* lua_lesson.c — the C side of the literate lesson runner (lua/lesson.lua),
 * registered as _lesson: Markdown to HTML through libcmark, base64 for images
 * embedded as data: URIs, the width of the terminal for wrapping prose, and
 * a capture of standard output (what C code such as fit's epoch lines prints
 * too) for the workbook page. */
#include <cmark.h>
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base64.h"

#include "lua_lesson.h"
#include "lua_util.h"

/* _lesson.markdown_to_html(text [, unsafe]) -> html. CommonMark through
 * cmark_markdown_to_html; raw HTML in the text is dropped unless `unsafe`.
 * Safe mode still lets data:image/png URIs through, which embedded plots use. */
static int l_lesson_markdown_to_html(lua_State *L) {
  size_t len;
  const char *md = luaL_checklstring(L, 1, &len);
  int options = CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8;
  if (lua_toboolean(L, 2)) options |= CMARK_OPT_UNSAFE;
  void **box = lu_push_box(L); /* a Lua error while copying cannot leak the html */
  char *html = cmark_markdown_to_html(md, len, options);
  *box = html;
  if (html == NULL) return lu_error(L, "markdown_to_html", "out of memory (converting %d bytes)", (int)len);
  lua_pushstring(L, html);
  lu_box_free(box);
  return 1;
}

/* _lesson.base64(bytes) -> string */
static int l_lesson_base64(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer buf;
  size_t m = base64_encoded_len(n);
  char *out = luaL_buffinitsize(L, &buf, m);
  base64_encode(out, (const unsigned char *)s, n);
  luaL_pushresultsize(&buf, m);
  return 1;
}

/* _lesson.term_width() -> columns of the terminal on standard output, or nil
 * when standard output is not a terminal. */
static int l_lesson_term_width(lua_State *L) {
  struct winsize ws;
  if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) lua_pushinteger(L, ws.ws_col);
  else lua_pushnil(L);
  return 1;
}

/* _lesson.cmark_version() -> "0.30.2" */
static int l_lesson_cmark_version(lua_State *L) {
  lua_pushstring(L, cmark_version_string());
  return 1;
}

/* Capturing standard output: file descriptor 1 is pointed at an unlinked
 * temporary file, so everything printed (by Lua or by C) lands there in order;
 * take() returns what arrived since the last call and copies it to the real
 * standard output, so the terminal still sees it. Only one capture at a time;
 * __gc (and __close) restore standard output if the Lua side forgets to. */
typedef struct {
  int saved; /* the real standard output, or -1 once stopped */
  FILE *tmp;
  long done; /* bytes of tmp already taken */
} Capture;

static int capture_active = 0;

static int capture_restore(Capture *c) {
  if (c->saved < 0) return 0;
  fflush(stdout);
  dup2(c->saved, 1);
  close(c->saved);
  c->saved = -1;
  if (c->tmp) fclose(c->tmp);
  c->tmp = NULL;
  capture_active = 0;
  return 0;
}

static int l_capture_gc(lua_State *L) {
  capture_restore((Capture *)luaL_checkudata(L, 1, "_lesson.Capture"));
  return 0;
}

/* _lesson.capture_stdout() -> capture object with :take() and :stop() */
static int l_lesson_capture_stdout(lua_State *L) {
  if (capture_active) return luaL_error(L, "capture_stdout: a capture is already running (expected one at a time)");
  Capture *c = (Capture *)lua_newuserdatauv(L, sizeof *c, 0);
  c->saved = -1;
  c->tmp = NULL;
  c->done = 0;
  luaL_setmetatable(L, "_lesson.Capture");
  fflush(stdout);
  c->tmp = tmpfile();
  if (!c->tmp) return luaL_error(L, "capture_stdout: cannot create a temporary file: %s", strerror(errno));
  c->saved = dup(1);
  if (c->saved < 0 || dup2(fileno(c->tmp), 1) < 0) {
    int e = errno;
    if (c->saved >= 0) close(c->saved);
    c->saved = -1;
    fclose(c->tmp);
    c->tmp = NULL;
    return luaL_error(L, "capture_stdout: cannot redirect standard output: %s", strerror(e));
  }
  capture_active = 1;
  return 1;
}

/* capture:take() -> the bytes printed since the last take (also echoed to
 * the real standard output). */
static int l_capture_take(lua_State *L) {
  Capture *c = (Capture *)luaL_checkudata(L, 1, "_lesson.Capture");
  luaL_Buffer b;
  char chunk[4096];
  size_t n;
  if (c->saved < 0) return luaL_error(L, "capture: take after stop");
  fflush(stdout);
  luaL_buffinit(L, &b);
  if (fseek(c->tmp, c->done, SEEK_SET) == 0) {
    while ((n = fread(chunk, 1, sizeof chunk, c->tmp)) > 0) {
      size_t off = 0;
      while (off < n) {
        ssize_t w = write(c->saved, chunk + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break; /* the terminal is gone: keep capturing for the page */
        off += (size_t)w;
      }
      luaL_addlstring(&b, chunk, n);
      c->done += (long)n;
    }
  }
  clearerr(c->tmp);
  luaL_pushresult(&b);
  return 1;
}

/* capture:stop() -> the last bytes; standard output is the terminal again. */
static int l_capture_stop(lua_State *L) {
  Capture *c = (Capture *)luaL_checkudata(L, 1, "_lesson.Capture");
  if (c->saved < 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  l_capture_take(L);
  capture_restore(c);
  return 1;
}

static const luaL_Reg CAPTURE_METHODS[] = {
  {"take", l_capture_take},
  {"stop", l_capture_stop},
  {NULL, NULL},
};

static const luaL_Reg FUNCS[] = {
  {"capture_stdout", l_lesson_capture_stdout},
  {"markdown_to_html", l_lesson_markdown_to_html},
  {"base64", l_lesson_base64},
  {"term_width", l_lesson_term_width},
  {"cmark_version", l_lesson_cmark_version},
  {NULL, NULL},
};

int luaopen_nnlab_lesson(lua_State *L) {
  if (luaL_newmetatable(L, "_lesson.Capture")) {
    lua_pushcfunction(L, l_capture_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_capture_gc);
    lua_setfield(L, -2, "__close");
    luaL_newlib(L, CAPTURE_METHODS);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  luaL_newlib(L, FUNCS);
  return 1;
}
