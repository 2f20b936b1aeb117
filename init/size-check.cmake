# Prints the stripped size of /init and enforces its budget.
file(SIZE "${FILE}" size)
message("ima-init: ${size} bytes stripped")
if(size GREATER MAX_SIZE)
  message(FATAL_ERROR "ima-init: ${size} bytes is over the budget of ${MAX_SIZE} bytes")
endif()
