# cmake -DINPUT=file -DOUTPUT=file.cpp -DSYMBOL=name -P embed_text.cmake
# Writes a C++ function returning the file's text. Why: installed tools must not depend on a data path.
file(READ "${INPUT}" _text)
file(WRITE "${OUTPUT}"
  "// Generated from ${INPUT}; do not edit.\n#include <string>\nnamespace gatehouse::host {\n"
  "const std::string& ${SYMBOL}() {\n  static const std::string text = R\"gh_embed(${_text})gh_embed\";\n  return text;\n}\n}\n")
