// Wait statuses in words, for the sentences operators read ("died with signal 11 (Segmentation fault)").
#pragma once

#include <string>

namespace gatehouse::host::isolation {

// "died with signal 11 (Segmentation fault)" / "exited with status 3" / "exited normally".
std::string describe_wait_status(int wait_status);

// "signal 6, Aborted" / "exit status 7": the short form used inside parentheses.
std::string short_wait_status(int wait_status);

// "Segmentation fault" for 11; "signal 64" when the C library has no name for it.
std::string signal_description(int signal);

}  // namespace gatehouse::host::isolation
