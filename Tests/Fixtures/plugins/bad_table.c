/*
 * bad_table.c — a valid plugin (id "bad_table", one parameter of each type) whose descriptor
 * breaks exactly one rule of the host's descriptor checks, chosen at compile time:
 *
 *     cc ... -DRULE_id_uppercase -o libunmix_bad_table.so bad_table.c
 *
 * Without a RULE_ macro it is valid and must load. Each rule below edits the tables once, in
 * the entry function, before returning them. The RULE_ names are listed, with the field each
 * must be refused for, in Tests/ConformanceTests/DescriptorCheckTests.swift.
 */
#include "fixture_common.h"

#include <math.h>
#include <string.h>

static const char *const two_choices[2] = { "fast", "exact" };
static const char *choices[2] = { "fast", "exact" };
static const char *many_choices[257];

static unmix_param_info_t params[4] = {
    { "iterations", "How many passes.", NULL, UNMIX_PARAM_INTEGER, UNMIX_PARAM_HAS_MIN | UNMIX_PARAM_HAS_MAX,
      10.0, 1.0, 100.0, 0, NULL },
    { "alpha", "A weight.", NULL, UNMIX_PARAM_REAL, UNMIX_PARAM_HAS_MIN | UNMIX_PARAM_HAS_MAX,
      0.5, 0.0, 1.0, 0, NULL },
    { "verbose", "Say more.", NULL, UNMIX_PARAM_BOOLEAN, 0, 0.0, 0.0, 0.0, 0, NULL },
    { "method", "How to solve.", NULL, UNMIX_PARAM_CHOICE, 0, 0.0, 0.0, 0.0, 2, two_choices },
};

static unmix_descriptor_t descriptor = {
    "bad_table", "Bad table", "1.0.0",
    "A descriptor that breaks one rule.",
    "A test fixture for the host's descriptor checks.",
    "unmix tests", "MIT", NULL,
    0, 4, params,
};

static unmix_status set_params(unmix_instance_t *inst, const double *values, uint32_t count, uint64_t seed)
{
    (void)values;
    (void)seed;
    if (inst == NULL) return UNMIX_ERR_INVALID_ARGUMENT;
    if (count != descriptor.param_count) {
        fx_set_error(inst, "wrong number of parameter values");
        return UNMIX_ERR_INVALID_ARGUMENT;
    }
    return UNMIX_OK;
}

static unmix_plugin_t plugin = {
    UNMIX_ABI_MAJOR, UNMIX_ABI_MINOR, &descriptor,
    fx_create, fx_destroy, set_params, fx_fit_first_pixels, fx_abundances_uniform,
    fx_last_error, fx_get_extension,
};

static char long_text[64 * 1024 + 2];

/* `length` bytes of 'x', then the terminator. */
static const char *text_of_length(size_t length)
{
    memset(long_text, 'x', length);
    long_text[length] = '\0';
    return long_text;
}

static void break_one_rule(void)
{
    unmix_param_info_t *integer = &params[0], *real = &params[1], *boolean = &params[2], *choice = &params[3];
    (void)integer; (void)real; (void)boolean; (void)choice; (void)choices; (void)many_choices;
    (void)text_of_length;
#if defined(RULE_id_uppercase)
    descriptor.id = "Bad_Table";
#elif defined(RULE_id_leading_underscore)
    descriptor.id = "_bad_table";
#elif defined(RULE_id_non_ascii)
    descriptor.id = "bad_tabl\xc3\xa9";
#elif defined(RULE_id_too_long)
    descriptor.id = text_of_length(65);
#elif defined(RULE_id_empty)
    descriptor.id = "";
#elif defined(RULE_version_null)
    descriptor.version = NULL;
#elif defined(RULE_name_newline)
    descriptor.name = "Bad\nTable";
#elif defined(RULE_name_not_utf8)
    descriptor.name = "Bad \xff\xfe table";
#elif defined(RULE_summary_escape)
    descriptor.summary = "A summary in \033[31mred\033[0m.";
#elif defined(RULE_license_bidi_override)
    descriptor.license = "MIT \xe2\x80\xae";
#elif defined(RULE_url_too_long)
    descriptor.url = text_of_length(4 * 1024 + 1);
#elif defined(RULE_description_too_long)
    descriptor.description = text_of_length(64 * 1024 + 1);
#elif defined(RULE_description_control)
    descriptor.description = "A bell\a in the description.";
#elif defined(RULE_unknown_capability)
    descriptor.capabilities = UNMIX_CAP_SPATIAL | (1u << 6);
#elif defined(RULE_param_count_too_many)
    descriptor.param_count = 1025;
#elif defined(RULE_params_null)
    descriptor.params = NULL;
#elif defined(RULE_param_id_uppercase)
    real->id = "Alpha";
#elif defined(RULE_param_id_duplicate)
    real->id = "iterations";
#elif defined(RULE_param_type_unknown)
    real->type = 7;
#elif defined(RULE_help_too_long)
    real->help = text_of_length(4 * 1024 + 1);
#elif defined(RULE_help_newline)
    real->help = "One line.\nAnother line.";
#elif defined(RULE_unit_escape)
    real->unit = "\033]0;title\007";
#elif defined(RULE_real_default_nan)
    real->default_value = NAN;
#elif defined(RULE_real_default_infinite)
    real->default_value = INFINITY;
#elif defined(RULE_real_min_nan)
    real->min_value = NAN;
#elif defined(RULE_real_max_infinite)
    real->max_value = INFINITY;
#elif defined(RULE_real_min_above_max)
    real->min_value = 2.0;
    real->max_value = 1.0;
    real->default_value = 1.5;
#elif defined(RULE_real_default_below_min)
    real->default_value = -0.5;
#elif defined(RULE_real_default_above_max)
    real->default_value = 1.5;
#elif defined(RULE_integer_default_fractional)
    integer->default_value = 10.5;
#elif defined(RULE_integer_min_fractional)
    integer->min_value = 0.5;
#elif defined(RULE_integer_max_huge)
    integer->max_value = 9007199254740992.0; /* 2^53 */
#elif defined(RULE_integer_default_huge)
    integer->flags = 0;
    integer->default_value = 1e300;
#elif defined(RULE_boolean_default_two)
    boolean->default_value = 2.0;
#elif defined(RULE_boolean_default_half)
    boolean->default_value = 0.5;
#elif defined(RULE_choice_count_zero)
    choice->choice_count = 0;
#elif defined(RULE_choice_count_too_many)
    {
        int k;
        for (k = 0; k < 257; k++) many_choices[k] = "same";
        choice->choice_count = 257;
        choice->choices = many_choices;
    }
#elif defined(RULE_choices_null)
    choice->choices = NULL;
#elif defined(RULE_choice_null)
    choices[1] = NULL;
    choice->choices = choices;
#elif defined(RULE_choice_empty)
    choices[1] = "";
    choice->choices = choices;
#elif defined(RULE_choice_duplicate)
    choices[1] = "FAST";
    choice->choices = choices;
#elif defined(RULE_choice_unprintable)
    choices[1] = "exact\033[2K";
    choice->choices = choices;
#elif defined(RULE_choice_default_fractional)
    choice->default_value = 0.5;
#elif defined(RULE_choice_default_out_of_range)
    choice->default_value = 2.0;
#elif defined(RULE_choice_default_negative)
    choice->default_value = -1.0;
#elif defined(RULE_choice_default_huge)
    choice->default_value = 1e300;
/* Valid variations, which must load. */
#elif defined(RULE_ok_multiline_description)
    descriptor.description = "First paragraph.\n\n\tAn indented second one, with UTF-8: \xc3\x85ngstr\xc3\xb6m.";
#elif defined(RULE_ok_future_capability)
    /* A plugin built for a later 1.x may set bits this host does not know: they are ignored. */
    plugin.abi_minor = UNMIX_ABI_MINOR + 1;
    descriptor.capabilities = UNMIX_CAP_SPATIAL | (1u << 6) | ((uint64_t)1 << 40);
#elif defined(RULE_ok_longest)
    descriptor.id = "b23456789_123456789.123456789-123456789_123456789_123456789_1234"; /* 64 */
    descriptor.description = text_of_length(64 * 1024);
#elif defined(RULE_ok_unflagged_nan_bounds)
    /* Bounds without their flags are not read. */
    real->flags = 0;
    real->min_value = NAN;
    real->max_value = NAN;
#endif
}

UNMIX_EXPORT const unmix_plugin_t *unmix_plugin_entry(void)
{
    static int edited = 0;
    if (!edited) {
        break_one_rule();
        edited = 1;
    }
    return &plugin;
}
