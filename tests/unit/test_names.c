/* tests/unit/test_names.c: validation of log group and stream names, tags
 * and retention values, as CloudWatch defines them, with messages that
 * point at the offending character. */
#include "api/api_int.h"
#include "tests/harness.h"

TEST(group_names)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"a", true},
        {"/aws/lambda/my-fn", true},
        {"app.web_1#blue-green", true},
        {"A-Z.a-z_0-9/#", true},
        {"", false},
        {"has space", false},
        {"colon:no", false},
        {"star*no", false},
        {"caf\xc3\xa9", false},
        {"tab\there", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sl_err err = {0};
        enum sl_status st = name_check_group(cases[i].name, &err);
        if ((st == SL_OK) != cases[i].ok)
            TEST_FAIL_AT("group name '%s': got %s", cases[i].name, sl_status_name(st));
        if (!cases[i].ok)
            CHECK_EQ_INT(st, SL_INVALID);
    }
}

TEST(group_name_length_and_position_in_message)
{
    char name[600];
    struct sl_err err = {0};
    memset(name, 'a', 512);
    name[512] = '\0';
    CHECK_OK(name_check_group(name, &err));
    name[512] = 'a';
    name[513] = '\0';
    CHECK_EQ_INT(name_check_group(name, &err), SL_INVALID);
    CHECK(strstr(err.msg, "1-512") != NULL);
    CHECK(strstr(err.msg, "513") != NULL);
    sl_err_clear(&err);
    CHECK_EQ_INT(name_check_group("abc def", &err), SL_INVALID);
    CHECK(strstr(err.msg, "character 4") != NULL);
}

TEST(stream_names)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"i-0123456789abcdef0", true},
        {"2024/01/01/[$LATEST]abcdef", true},
        {"with space and caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", true},
        {"", false},
        {"a:b", false},
        {"a*b", false},
        {"bad\xc3", false},           /* truncated UTF-8 */
        {"bad\xc0\xaf", false},       /* overlong */
        {"bad\xed\xa0\x80", false},   /* surrogate */
        {"nl\nno", false},
        {"del\x7fno", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sl_err err = {0};
        enum sl_status st = name_check_stream(cases[i].name, &err);
        if ((st == SL_OK) != cases[i].ok)
            TEST_FAIL_AT("stream name #%zu: got %s (%s)", i, sl_status_name(st), err.msg);
    }
}

TEST(retention_values)
{
    static const int ok[] = {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365,
                             400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                             3288, 3653};
    static const int bad[] = {0, -1, 2, 4, 8, 31, 366, 3654, 100000};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        CHECK(name_retention_ok(ok[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!name_retention_ok(bad[i]));
    CHECK(strstr(name_retention_list(), "3653") != NULL);
}

TEST(tags)
{
    static const struct {
        const char *json;
        bool ok;
    } cases[] = {
        {"{}", true},
        {"{\"team\": \"core\", \"env\": \"\"}", true},
        {"{\"a b_c.d:e/f=g+h-i@j\": \"A 1_.:/=+-@\"}", true},
        {"{\"caf\u00e9\": \"\u00fcber\"}", true},   /* letters beyond ASCII */
        {"{\"\": \"x\"}", false},                       /* empty key */
        {"{\"bad!\": \"x\"}", false},
        {"{\"k\": \"tab\\there\"}", false},
        {"{\"k\": 1}", false},
        {"{\"aws:owner\": \"x\"}", false},              /* reserved prefix */
        {"[]", false},
    };
    char key[300], doc[600];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sl_err err = {0};
        json_t *j = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        enum sl_status st;
        REQUIRE(j != NULL);
        st = name_check_tags(j, &err);
        if ((st == SL_OK) != cases[i].ok)
            TEST_FAIL_AT("tags %s: got %s (%s)", cases[i].json, sl_status_name(st), err.msg);
        json_decref(j);
    }
    /* lengths count characters: 128 two-byte characters is a valid key */
    for (int i = 0; i < 128; i++)
        memcpy(key + 2 * i, "\xc3\xa9", 2);
    key[256] = '\0';
    snprintf(doc, sizeof(doc), "{\"%s\": \"v\"}", key);
    {
        struct sl_err err = {0};
        json_t *j = json_loads(doc, 0, NULL);
        REQUIRE(j != NULL);
        CHECK_OK(name_check_tags(j, &err));
        json_object_set_new(j, "x", json_string(
            "1234567890123456789012345678901234567890123456789012345678901234"
            "1234567890123456789012345678901234567890123456789012345678901234"
            "1234567890123456789012345678901234567890123456789012345678901234"
            "1234567890123456789012345678901234567890123456789012345678901234"
            "1"));                                              /* 257 */
        CHECK_EQ_INT(name_check_tags(j, &err), SL_INVALID);
        CHECK(strstr(err.msg, "0-256 characters; got 257") != NULL);
        json_decref(j);
    }
    {
        struct sl_err err = {0};
        json_t *j = json_object();
        for (int i = 0; i < 51; i++) {
            snprintf(key, sizeof(key), "k%d", i);
            json_object_set_new(j, key, json_string("v"));
        }
        CHECK_EQ_INT(name_check_tags(j, &err), SL_INVALID);
        CHECK(strstr(err.msg, "at most 50") != NULL);
        json_decref(j);
    }
}

TEST_MAIN()
