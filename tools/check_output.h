/* check_output.h: the rows of `tokamax-tune check`, printed as an aligned
 * text table or as a JSON array, one row at a time as results arrive. */
#ifndef TK_TOOLS_CHECK_OUTPUT_H
#define TK_TOOLS_CHECK_OUTPUT_H

typedef enum { TK_ROW_PASS, TK_ROW_FAIL, TK_ROW_SKIP } tk_row_result;

/* One implementation on one case. max_abs_err and tol are meaningful when
 * checked is set; median_s and rate when rate_unit is set. */
typedef struct {
  const char *spec;      /* the case's spec line */
  const char *impl;
  tk_row_result result;
  char config[256];      /* the config the plan chose ("" for none) */
  int checked;           /* it ran and its output was checked */
  double max_abs_err, tol;
  double median_s;       /* median wall time of one run */
  double rate;           /* in rate_unit */
  const char *rate_unit; /* "GFLOP/s" or "GB/s"; NULL when not timed */
  char why[512];         /* skip or failure reason */
} check_row;

typedef struct {
  int json;
  int case_width; /* width of the case column */
  int rows;       /* rows printed so far */
} check_output;

/* Starts the output on stdout: the table header, or "[". */
void check_output_begin(check_output *o, int json, int case_width);
/* Prints one row. */
void check_output_row(check_output *o, const check_row *r);
/* Ends the output: "]" for JSON. */
void check_output_end(check_output *o);

#endif
