# Checks build/lambda/bootstrap.zip as Lambda will use it (cmake -P, test
# test_lambda_package): bootstrap at the root and executable, lib/ beside it, an RPATH of
# $ORIGIN/lib alone, every non-glibc library resolved from the package's own lib/ with no
# LD_LIBRARY_PATH, and the extracted binary actually starting.
foreach(v ZIP WORK)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_package.cmake needs -D${v}=...")
  endif()
endforeach()
if(NOT EXISTS "${ZIP}")
  message(FATAL_ERROR "${ZIP} does not exist: build the lambda_zip target")
endif()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
execute_process(COMMAND ${CMAKE_COMMAND} -E tar xf "${ZIP}" WORKING_DIRECTORY "${WORK}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cannot extract ${ZIP}")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -E tar tf "${ZIP}" OUTPUT_VARIABLE listing)
foreach(entry bootstrap lib/libdadratings.so.1 lib/libjansson.so.4)
  if(NOT listing MATCHES "(^|\n)${entry}(\n|$)")
    message(FATAL_ERROR "${entry} is not in the zip (root entries expected):\n${listing}")
  endif()
endforeach()
execute_process(COMMAND test -x "${WORK}/bootstrap" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bootstrap is not executable once extracted")
endif()

execute_process(COMMAND readelf -d "${WORK}/bootstrap" OUTPUT_VARIABLE dyn)
if(NOT dyn MATCHES "(RPATH|RUNPATH)[^\n]*\\[\\$ORIGIN/lib\\]")
  message(FATAL_ERROR "bootstrap's RPATH is not exactly $ORIGIN/lib:\n${dyn}")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH ldd "${WORK}/bootstrap"
  OUTPUT_VARIABLE ldd_out RESULT_VARIABLE rc)
string(REPLACE "\n" ";" lines "${ldd_out}")
set(glibc_re "^(linux-vdso|ld-linux[-a-z0-9_]*|libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl|libmvec)\\.so")
foreach(line IN LISTS lines)
  string(STRIP "${line}" line)
  if(line MATCHES "not found")
    message(FATAL_ERROR "unresolved: ${line}")
  elseif(line MATCHES "^([^ ]+) => ([^ ]+) \\(")
    if(NOT CMAKE_MATCH_1 MATCHES "${glibc_re}" AND NOT CMAKE_MATCH_2 MATCHES "^${WORK}/lib/")
      message(FATAL_ERROR "${CMAKE_MATCH_1} resolves outside the package: ${line}")
    endif()
  endif()
endforeach()

# Started with nothing from the environment, it must load and say what is missing.
execute_process(COMMAND env -i "${WORK}/bootstrap" RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "AWS_LAMBDA_RUNTIME_API")
  message(FATAL_ERROR "extracted bootstrap: exit ${rc}, stderr: ${err}")
endif()
message(STATUS "bootstrap.zip OK:\n${ldd_out}")
