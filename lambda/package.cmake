# Stage and zip the Lambda deployment package (cmake -P; run by target lambda_zip).
#
#   STAGE/bootstrap        the runtime, RPATH rewritten to $ORIGIN/lib
#   STAGE/lib/<soname>     every shared library it loads that glibc does not provide
#   ZIP                    STAGE zipped with bootstrap and lib/ at its root
#   ZIP.manifest           what was bundled, from where, and the newest GLIBC_ it needs
#
# What ldd resolves on the build machine is what gets bundled, transitively, so the
# package carries its own libcurl, OpenSSL, jansson and their dependencies: the
# provided.al2023 image documents none of them (docs/lambda.md has the reasoning).
# glibc is the exception: it is the one library every Lambda image has, and a copied
# libc would not match the image's dynamic loader.
cmake_minimum_required(VERSION 3.21)
foreach(v BOOTSTRAP STAGE ZIP MAX_GLIBC)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "package.cmake needs -D${v}=...")
  endif()
endforeach()

# glibc's own objects: never bundled.
set(glibc_re "^(linux-vdso|linux-gate|ld-linux[-a-z0-9_]*|libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl|libmvec)\\.so")

file(REMOVE_RECURSE "${STAGE}")
file(MAKE_DIRECTORY "${STAGE}/lib")

execute_process(COMMAND ldd "${BOOTSTRAP}" OUTPUT_VARIABLE ldd_out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ldd ${BOOTSTRAP} failed")
endif()
string(REPLACE "\n" ";" lines "${ldd_out}")
set(manifest "bootstrap.zip: bootstrap and lib/ at the root; RPATH $ORIGIN/lib\n\n")
set(bundled "")
foreach(line IN LISTS lines)
  string(STRIP "${line}" line)
  if(line MATCHES "^([^ ]+) => not found")
    message(FATAL_ERROR "bootstrap needs ${CMAKE_MATCH_1}, which ldd cannot find")
  elseif(line MATCHES "^([^ ]+) => ([^ ]+) \\(")
    set(soname "${CMAKE_MATCH_1}")
    set(path "${CMAKE_MATCH_2}")
    if(soname MATCHES "${glibc_re}")
      string(APPEND manifest "base image  ${soname}  (glibc)\n")
    else()
      # Follows symlinks: the file is stored under the name the loader asks for.
      file(COPY_FILE "${path}" "${STAGE}/lib/${soname}")
      list(APPEND bundled "${STAGE}/lib/${soname}")
      string(APPEND manifest "bundled     lib/${soname}  (from ${path})\n")
    endif()
  elseif(line MATCHES "^(/[^ ]+) \\(")
    string(APPEND manifest "base image  ${CMAKE_MATCH_1}  (dynamic loader)\n")
  endif()
endforeach()

file(COPY_FILE "${BOOTSTRAP}" "${STAGE}/bootstrap")
file(RPATH_SET FILE "${STAGE}/bootstrap" NEW_RPATH "$ORIGIN/lib")
file(CHMOD "${STAGE}/bootstrap" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
  GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

# The newest glibc symbol version anything in the package asks for must exist in the
# image, or the loader refuses to start bootstrap ("GLIBC_2.xx not found").
find_program(OBJDUMP objdump)
if(OBJDUMP)
  set(newest "0")
  foreach(f "${STAGE}/bootstrap" ${bundled})
    execute_process(COMMAND ${OBJDUMP} -T "${f}" OUTPUT_VARIABLE syms ERROR_QUIET)
    string(REGEX MATCHALL "GLIBC_[0-9]+\\.[0-9]+(\\.[0-9]+)?" vers "${syms}")
    foreach(ver IN LISTS vers)
      string(REPLACE "GLIBC_" "" ver "${ver}")
      if(ver VERSION_GREATER newest)
        set(newest "${ver}")
        get_filename_component(newest_file "${f}" NAME)
      endif()
    endforeach()
  endforeach()
  string(APPEND manifest "\nnewest glibc symbol needed: GLIBC_${newest} (by ${newest_file}); "
    "the image provides GLIBC_${MAX_GLIBC}\n")
  if(newest VERSION_GREATER MAX_GLIBC)
    message(WARNING "The Lambda package needs GLIBC_${newest} (${newest_file}) but "
      "provided.al2023 has glibc ${MAX_GLIBC}: it will not start there. Build inside an "
      "Amazon Linux 2023 container (docs/lambda.md).")
    string(APPEND manifest "WARNING: newer than the image's glibc; build on AL2023\n")
  endif()
endif()

file(REMOVE "${ZIP}")
execute_process(COMMAND ${CMAKE_COMMAND} -E tar cf "${ZIP}" --format=zip bootstrap lib
  WORKING_DIRECTORY "${STAGE}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "creating ${ZIP} failed")
endif()
file(WRITE "${ZIP}.manifest" "${manifest}")
