/* tests/unit/test_cwl.c: the pieces of the CloudWatch protocol that need no
 * server: the access key id of SigV4 headers, the 56-digit event ids and
 * sequence tokens, and the AWS statuses of the one error table. The
 * operations themselves are tested with the real AWS CLI and boto3
 * (tests/integ/test_awscli.py, test_boto3.py). */
#include "api/cwl_int.h"
#include "common/alloc.h"
#include "tests/harness.h"

#include <string.h>

TEST(sigv4_access_key)
{
    static const struct {
        const char *header;
        const char *want;       /* NULL: none */
    } cases[] = {
        {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260301/us-east-1/logs/"
         "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
         "x-amz-target, Signature=0123abcd", "AKIDEXAMPLE"},
        {"AWS4-HMAC-SHA256 Credential=test/20261126/us-east-1/logs/aws4_request,"
         "SignedHeaders=host,Signature=00", "test"},
        {"AWS4-HMAC-SHA256 SignedHeaders=host, Credential=k/d/r/logs/aws4_request",
         "k"},
        {"Bearer abc", NULL},
        {"AWS4-HMAC-SHA256 Credential=/20260301/us-east-1/logs/aws4_request", NULL},
        {"AWS4-HMAC-SHA256 Credential=nodate", NULL},
        {"", NULL},
    };
    struct arena a;
    arena_init(&a, 1024, 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = cwl_sigv4_access_key(&a, cases[i].header);
        if (cases[i].want == NULL)
            CHECK(got == NULL);
        else
            CHECK_EQ_STR(got, cases[i].want);
    }
    CHECK(cwl_sigv4_access_key(&a, NULL) == NULL);
    arena_fini(&a);
}

TEST(event_ids_sort_as_events)
{
    char a[57], b[57], c[57];
    cwl_event_id(a, 1700000000000, 99);
    cwl_event_id(b, 1700000000000, 100);
    cwl_event_id(c, 1700000000001, 1);
    CHECK_EQ_INT(strlen(a), 56);
    CHECK_EQ_STR(a, "00000001700000000000000000000000000000000000000000000099");
    CHECK(strcmp(a, b) < 0);
    CHECK(strcmp(b, c) < 0);
    CHECK(strspn(c, "0123456789") == 56);
}

TEST(sequence_tokens)
{
    char t1[57], t2[57];
    cwl_seq_token(t1, 7, 1700000000000);
    cwl_seq_token(t2, 7, 1700000000000);
    CHECK_EQ_STR(t1, t2);
    CHECK_EQ_INT(strlen(t1), 56);
    CHECK(strncmp(t1, "49", 2) == 0);
    cwl_seq_token(t2, 8, 1700000000000);
    CHECK(strcmp(t1, t2) != 0);
}

TEST(aws_statuses)
{
    /* AWS answers modeled client errors with 400, faults with 5xx. */
    static const enum sl_status client[] = {
        SL_INVALID, SL_BAD_JSON, SL_NOT_FOUND, SL_EXISTS, SL_LIMIT,
        SL_MALFORMED_QUERY, SL_UNKNOWN_OP, SL_VALIDATION, SL_TOO_MANY_TAGS};
    for (size_t i = 0; i < sizeof(client) / sizeof(client[0]); i++)
        CHECK_EQ_INT(apierr_aws_status(client[i]), 400);
    CHECK_EQ_INT(apierr_aws_status(SL_INTERNAL), 500);
    CHECK_EQ_INT(apierr_aws_status(SL_BUSY), 503);
    CHECK_EQ_STR(apierr_name(SL_UNKNOWN_OP), "UnknownOperationException");
    CHECK_EQ_STR(apierr_name(SL_BAD_JSON), "SerializationException");
    /* the native API keeps its specific statuses */
    CHECK_EQ_INT(apierr_http_status(SL_NOT_FOUND), 404);
    CHECK_EQ_INT(apierr_http_status(SL_EXISTS), 409);
}

TEST(aws_error_body)
{
    struct api_resp resp = {0};
    struct sl_err err = {0};
    json_t *j;

    sl_fail(&err, SL_NOT_FOUND, "The specified log group does not exist.");
    apierr_reply_aws(&resp, &err, NULL);
    CHECK_EQ_INT(resp.status, 400);
    CHECK_EQ_STR(resp.content_type, "application/x-amz-json-1.1");
    j = json_loadb(resp.body, resp.body_len, 0, NULL);
    REQUIRE(j != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "__type")),
                 "ResourceNotFoundException");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "message")),
                 "The specified log group does not exist.");
    json_decref(j);
    /* a message cut inside a UTF-8 sequence still goes out */
    sl_err_clear(&err);
    sl_fail(&err, SL_INVALID, "tag '%.3s'", "\xc3\xa9\xc3\xa9");
    apierr_reply_aws(&resp, &err, NULL);
    j = json_loadb(resp.body, resp.body_len, 0, NULL);
    REQUIRE(j != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "message")), "tag '?" "?" "?'");
    json_decref(j);
    sl_free(resp.body);
}

TEST_MAIN()
