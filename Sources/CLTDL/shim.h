// GNU libltdl, from Debian's libltdl-dev.
#include <ltdl.h>
