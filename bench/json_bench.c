/* json_bench.c — why the kernel uses jansson: parses and serialises a typical
 * Jupyter message (an execute_request's header and content, and an
 * execute_reply) with jansson and with cJSON, and prints microseconds per
 * round trip for each. Built and run by bench/bench_kernel.sh. */
#include <cjson/cJSON.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char HEADER[] =
  "{\"msg_id\":\"3f1c2a9e-6b8d-4e2f-9a71-0c5d8e4b7f21_1234_7\",\"session\":\"3f1c2a9e-6b8d-4e2f-9a71-0c5d8e4b7f21\","
  "\"username\":\"student\",\"date\":\"2026-12-02T15:14:07.123456Z\",\"msg_type\":\"execute_request\",\"version\":\"5.3\"}";
static const char CONTENT[] =
  "{\"code\":\"local hist = model:fit(train.X, train.y, {epochs = 5, batch_size = 64, validation_split = 0.1})\\nplot.history(hist)\","
  "\"silent\":false,\"store_history\":true,\"user_expressions\":{},\"allow_stdin\":true,\"stop_on_error\":true}";

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t with_jansson(void) {
  size_t n = 0;
  json_t *h = json_loads(HEADER, 0, NULL), *c = json_loads(CONTENT, 0, NULL);
  json_t *reply = json_pack("{s:s, s:I, s:{}}", "status", "ok", "execution_count", (json_int_t)7, "user_expressions");
  const char *code = json_string_value(json_object_get(c, "code"));
  char *a = json_dumps(h, JSON_COMPACT), *b = json_dumps(reply, JSON_COMPACT);
  n = strlen(a) + strlen(b) + strlen(code);
  free(a);
  free(b);
  json_decref(h);
  json_decref(c);
  json_decref(reply);
  return n;
}

static size_t with_cjson(void) {
  size_t n = 0;
  cJSON *h = cJSON_Parse(HEADER), *c = cJSON_Parse(CONTENT);
  cJSON *reply = cJSON_CreateObject();
  cJSON_AddStringToObject(reply, "status", "ok");
  cJSON_AddNumberToObject(reply, "execution_count", 7);
  cJSON_AddObjectToObject(reply, "user_expressions");
  const char *code = cJSON_GetObjectItemCaseSensitive(c, "code")->valuestring;
  char *a = cJSON_PrintUnformatted(h), *b = cJSON_PrintUnformatted(reply);
  n = strlen(a) + strlen(b) + strlen(code);
  free(a);
  free(b);
  cJSON_Delete(h);
  cJSON_Delete(c);
  cJSON_Delete(reply);
  return n;
}

int main(void) {
  const int N = 200000;
  size_t sink = 0;
  double best_j = 1e9, best_c = 1e9;
  for (int rep = 0; rep < 3; rep++) {
    double t0 = now();
    for (int i = 0; i < N; i++) sink += with_jansson();
    double t1 = now();
    for (int i = 0; i < N; i++) sink += with_cjson();
    double t2 = now();
    if (t1 - t0 < best_j) best_j = t1 - t0;
    if (t2 - t1 < best_c) best_c = t2 - t1;
  }
  printf("json message round trip: jansson %.2f us, cJSON %.2f us (%zu)\n", best_j / N * 1e6, best_c / N * 1e6,
         sink % 7);
  return 0;
}
