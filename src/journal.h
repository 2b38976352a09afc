#ifndef UNITFORGE_JOURNAL_H
#define UNITFORGE_JOURNAL_H

#include <stddef.h>

/* How a write survives being killed at any moment. Before a run writes
 * anything into a folder it leaves there a journal (.unitforge.journal)
 * naming its temporary files and their targets. The run is committed
 * when the marker .unitforge.committed holding its id appears in its
 * primary folder (the first folder, in lock order, that it changes);
 * then the renames begin. A later run that finds a journal finishes the
 * renames of a committed run and removes the temporary files of any
 * other, so every folder ends entirely old or entirely new. Journals of
 * the other folders name the primary; the primary's names them. */

#define JOURNAL_NAME ".unitforge.journal"
#define JOURNAL_MARKER ".unitforge.committed"
#define JOURNAL_TEMP_PREFIX ".unitforge.tmp."
#define JOURNAL_ID_LEN 16

struct journal_rename {
    const char *temp;   /* in the folder */
    const char *target; /* NAME, or SUB/NAME for a drop-in */
};

struct journal {
    const char *run_id;
    const char *primary;            /* NULL in the primary itself */
    const char *const *secondaries; /* in the primary only */
    size_t nsecondaries;
    const char *const *created;     /* folders the run made, outermost first */
    size_t ncreated;
    const char *const *subfolders;  /* SUB folders the run makes in it */
    size_t nsubfolders;
    const struct journal_rename *renames;
    size_t nrenames;
};

/* A new run id: JOURNAL_ID_LEN hexadecimal digits and a NUL. */
void journal_new_run_id(char id[JOURNAL_ID_LEN + 1]);

/* Writes the journal into the folder `dirfd` (atomically: a temporary
 * file renamed into place). 0, or -1 with errno set. */
int journal_write(int dirfd, const struct journal *journal);

/* Commits the run: the marker appears in the primary folder atomically. */
int journal_commit(int dirfd, const char *run_id);

/* After the renames: the journal goes, and in the primary the marker
 * after it. */
int journal_finish(int dirfd, int primary);

/* Whether the folder holds a journal: a run was interrupted there. */
int journal_present(int dirfd);

/* In a folder the caller has locked: removes what a finished run may
 * have left (temporary journal or marker, a marker without a journal).
 * Returns 1 when a journal is there: an interrupted run to settle. */
int journal_tidy(int dirfd);

/* Settles the interrupted run whose journal is in the folder `path`,
 * taking no lock but that run's own folders, primary first: finishes
 * its renames everywhere when it was committed, else removes its
 * temporary files and the folders it made. The caller holds no lock.
 * 0, or -1 with `error` naming the file. */
int journal_recover_run(const char *path, char *error, size_t size);

#endif
